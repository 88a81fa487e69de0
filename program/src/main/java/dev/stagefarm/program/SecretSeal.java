package dev.stagefarm.program;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.proto.v1.SealedSecret;
import dev.stagefarm.proto.v1.SealedSecrets;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals a build's secrets for the store and opens them again, with a key only farm parts can
 * derive (docs/protocol.md, "Build secrets"):
 *
 * <ul>
 *   <li>key: HKDF-SHA256 of the farm's signing key, salt = the kind's label, info = the build id
 *       ({@link FarmKeys#derive}), so the key of one build opens nothing of another;
 *   <li>each value: AES-256-GCM with a fresh random 96-bit nonce and a 128-bit tag;
 *   <li>associated data: {@code label LF build id LF secret id}, so a value cannot be moved to
 *       another build, id or kind without the tag failing.
 * </ul>
 */
public final class SecretSeal {
  public static final int SCHEMA_VERSION = 1;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** What is sealed: each kind has its own derived key (registry credentials will be a second kind). */
  public enum Kind {
    /** {@code --secret}s, read by workers. */
    BUILD_SECRETS("stagefarm-build-secrets/v1");

    private final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /** Sealed values that do not open: another farm's key, another build, or edited bytes. */
  public static final class SealException extends Exception {
    SealException(String message) {
      super(message);
    }
  }

  private SecretSeal() {}

  /** The serialized {@code SealedSecrets} of {@code values}, for build {@code buildId}. */
  public static byte[] seal(FarmKeys keys, Kind kind, String buildId, Map<String, byte[]> values) {
    FarmKeys.DerivedKey key = keys.derive(kind.label, buildId.getBytes(StandardCharsets.UTF_8));
    SealedSecrets.Builder sealed = SealedSecrets.newBuilder()
        .setSchemaVersion(SCHEMA_VERSION).setBuildId(buildId).setKeyId(key.keyId());
    for (Map.Entry<String, byte[]> value : values.entrySet()) {
      byte[] nonce = new byte[NONCE_BYTES];
      RANDOM.nextBytes(nonce);
      byte[] ciphertext = crypt(Cipher.ENCRYPT_MODE, key.key(), nonce, aad(kind, buildId, value.getKey()),
          value.getValue());
      sealed.addSecrets(SealedSecret.newBuilder().setId(value.getKey()).setNonce(ByteString.copyFrom(nonce))
          .setCiphertext(ByteString.copyFrom(ciphertext)));
    }
    return sealed.build().toByteArray();
  }

  /**
   * The values sealed in {@code bytes} for build {@code buildId}, by id.
   *
   * @throws SealException when they were not sealed for this build and kind by a key of this ring,
   *     or were edited
   */
  public static Map<String, byte[]> open(FarmKeys keys, Kind kind, String buildId, byte[] bytes)
      throws SealException {
    SealedSecrets sealed;
    try {
      sealed = SealedSecrets.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new SealException("the sealed secrets of build " + buildId + " are unreadable");
    }
    if (sealed.getSchemaVersion() > SCHEMA_VERSION) {
      throw new SealException("the sealed secrets of build " + buildId + " have schema version "
          + sealed.getSchemaVersion() + ", newer than this part understands (" + SCHEMA_VERSION + ")");
    }
    if (!sealed.getBuildId().equals(buildId)) {
      throw new SealException("the sealed secrets are not build " + buildId + "'s");
    }
    FarmKeys.DerivedKey key = keys.derive(sealed.getKeyId(), kind.label, buildId.getBytes(StandardCharsets.UTF_8))
        .orElseThrow(() -> new SealException("the secrets of build " + buildId + " were sealed with farm key "
            + sealed.getKeyId() + ", which this part does not hold"));
    Map<String, byte[]> values = new LinkedHashMap<>();
    for (SealedSecret secret : sealed.getSecretsList()) {
      if (secret.getNonce().size() != NONCE_BYTES) {
        throw new SealException("secret " + secret.getId() + " of build " + buildId + " has no valid nonce");
      }
      try {
        values.put(secret.getId(), crypt(Cipher.DECRYPT_MODE, key.key(), secret.getNonce().toByteArray(),
            aad(kind, buildId, secret.getId()), secret.getCiphertext().toByteArray()));
      } catch (IllegalStateException e) {
        if (e.getCause() instanceof AEADBadTagException) {
          throw new SealException("secret " + secret.getId() + " of build " + buildId
              + " does not verify (edited, or sealed for another build)");
        }
        throw e;
      }
    }
    return values;
  }

  private static byte[] aad(Kind kind, String buildId, String id) {
    return (kind.label + "\n" + buildId + "\n" + id).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] crypt(int mode, byte[] key, byte[] nonce, byte[] aad, byte[] input) {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad);
      return cipher.doFinal(input);
    } catch (AEADBadTagException e) {
      throw new IllegalStateException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is not available in this JDK: " + e.getMessage(), e);
    }
  }
}
