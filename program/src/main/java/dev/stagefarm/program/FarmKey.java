package dev.stagefarm.program;

import dev.stagefarm.program.FarmKeys.Purpose;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One key of a {@link FarmKeys} ring: which purposes it may sign and verify, and how. A shared HMAC
 * key signs and verifies everything (whoever holds it is every farm part); an Ed25519 role key signs
 * only its role's messages, and its public half verifies only those.
 */
sealed interface FarmKey {
  /** Names the key in headers and logs: 12 hex digits of a hash of what verifies (never the secret). */
  String id();

  boolean signs(Purpose purpose);

  boolean verifies(Purpose purpose);

  byte[] sign(Purpose purpose, byte[] payload);

  boolean verify(Purpose purpose, byte[] payload, byte[] signature);

  /** The farm part whose messages a role key authenticates, and those messages. */
  enum Role {
    COORDINATOR(EnumSet.of(Purpose.TASK, Purpose.CONTROL)), WORKER(EnumSet.of(Purpose.EVENT, Purpose.CACHE_RECORD));

    final Set<Purpose> purposes;

    Role(Set<Purpose> purposes) {
      this.purposes = purposes;
    }
  }

  /** The shared farm key of before role keys: HMAC-SHA256, every purpose both ways. */
  record Shared(String id, SecretKeySpec spec) implements FarmKey {
    static Shared of(byte[] secret) {
      return new Shared(keyId("", secret), new SecretKeySpec(secret.clone(), "HmacSHA256"));
    }

    @Override
    public boolean signs(Purpose purpose) {
      return true;
    }

    @Override
    public boolean verifies(Purpose purpose) {
      return true;
    }

    @Override
    public byte[] sign(Purpose purpose, byte[] payload) {
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(spec);
        mac.update(("stagefarm-mac/v1\n" + purpose.label() + "\n").getBytes(StandardCharsets.US_ASCII));
        return mac.doFinal(payload);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HMAC-SHA256 is not available in this JDK", e);
      }
    }

    @Override
    public boolean verify(Purpose purpose, byte[] payload, byte[] signature) {
      // constant-time comparison: a timing side channel must not reveal a valid MAC byte by byte
      return MessageDigest.isEqual(sign(purpose, payload), signature);
    }
  }

  /**
   * A key both parts of a role-key farm hold only to derive the keys that seal build secrets
   * ({@link FarmKeys#derive}): it signs and verifies nothing, so holding it lets a worker open
   * secrets (which it must, to run the RUNs that mount them) but not make tasks.
   */
  record Sealing(String id, SecretKeySpec spec) implements FarmKey {
    static Sealing of(byte[] secret) {
      return new Sealing(keyId("sealing:", secret), new SecretKeySpec(secret.clone(), "HmacSHA256"));
    }

    @Override
    public boolean signs(Purpose purpose) {
      return false;
    }

    @Override
    public boolean verifies(Purpose purpose) {
      return false;
    }

    @Override
    public byte[] sign(Purpose purpose, byte[] payload) {
      throw new IllegalStateException("a sealing key signs nothing");
    }

    @Override
    public boolean verify(Purpose purpose, byte[] payload, byte[] signature) {
      return false;
    }
  }

  /**
   * The private half of a role's Ed25519 key: signs that role's messages, verifies nothing.
   *
   * @param signer the process's {@link Ed25519Engine}'s signer of this key, made once (the public key
   *     derived once, not per signature: issue 12)
   */
  record RolePrivate(String id, Role role, PrivateKey key, Ed25519Engine.Signer signer) implements FarmKey {
    static RolePrivate of(Role role, byte[] seed) {
      KeyPair pair = Ed25519.fromSeed(seed);
      byte[] publicKey = Ed25519.raw(pair.getPublic());
      return new RolePrivate(keyId("ed25519:", publicKey), role, pair.getPrivate(),
          Ed25519Engines.chosen().signer(seed, publicKey));
    }

    @Override
    public boolean signs(Purpose purpose) {
      return role.purposes.contains(purpose);
    }

    @Override
    public boolean verifies(Purpose purpose) {
      return false;
    }

    @Override
    public byte[] sign(Purpose purpose, byte[] payload) {
      return signer.sign(Ed25519.message(purpose, payload));
    }

    @Override
    public boolean verify(Purpose purpose, byte[] payload, byte[] signature) {
      return false;
    }
  }

  /**
   * The public half of a role's Ed25519 key: verifies that role's messages only.
   *
   * @param verifier the process's {@link Ed25519Engine}'s verifier of this key, made once; for a key
   *     that is not a valid public key (small or mixed order, not on the curve) one that rejects all
   */
  record RolePublic(String id, Role role, PublicKey key, Ed25519Engine.Verifier verifier) implements FarmKey {
    static RolePublic of(Role role, byte[] raw) {
      PublicKey key = Ed25519.publicKey(raw);
      Ed25519Engine.Verifier verifier = Ed25519Engines.validPublicKey(raw)
          ? Ed25519Engines.chosen().verifier(raw) : (message, signature) -> false;
      return new RolePublic(keyId("ed25519:", raw), role, key, verifier);
    }

    @Override
    public boolean signs(Purpose purpose) {
      return false;
    }

    @Override
    public boolean verifies(Purpose purpose) {
      return role.purposes.contains(purpose);
    }

    @Override
    public byte[] sign(Purpose purpose, byte[] payload) {
      throw new IllegalStateException("a public key signs nothing");
    }

    @Override
    public boolean verify(Purpose purpose, byte[] payload, byte[] signature) {
      // a malformed signature is an invalid one (each engine checks the length)
      return verifier.verify(Ed25519.message(purpose, payload), signature);
    }
  }

  /** 12 hex digits of {@code sha256("stagefarm-key-id/v1" LF kind material)}. */
  private static String keyId(String kind, byte[] material) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(("stagefarm-key-id/v1\n" + kind).getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(sha.digest(material), 0, 6);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available in this JDK", e);
    }
  }

  /** Raw 32-byte Ed25519 keys (as {@code openssl} and most tools print them) to and from the JDK's. */
  final class Ed25519 {
    static final int KEY_BYTES = 32;
    /** DER header of an X.509 SubjectPublicKeyInfo for Ed25519; the raw key follows. */
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private Ed25519() {}

    static byte[] prefix(Purpose purpose) {
      return ("stagefarm-sig/v1\n" + purpose.label() + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** What a role key signs: the purpose's prefix, then the payload. */
    static byte[] message(Purpose purpose, byte[] payload) {
      byte[] prefix = prefix(purpose);
      byte[] message = java.util.Arrays.copyOf(prefix, prefix.length + payload.length);
      System.arraycopy(payload, 0, message, prefix.length, payload.length);
      return message;
    }

    /**
     * The key pair of a 32-byte private key (RFC 8032's seed). The JDK has no call that derives the
     * public key, but its generator takes the seed from the random source it is given.
     */
    static KeyPair fromSeed(byte[] seed) {
      if (seed.length != KEY_BYTES) {
        throw new IllegalArgumentException("an Ed25519 private key has " + KEY_BYTES + " bytes, this one " + seed.length);
      }
      try {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
        generator.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
          @Override
          public void nextBytes(byte[] bytes) {
            System.arraycopy(seed, 0, bytes, 0, bytes.length);
          }
        });
        return generator.generateKeyPair();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("Ed25519 is not available in this JDK", e);
      }
    }

    static KeyPair generate() {
      byte[] seed = new byte[KEY_BYTES];
      new SecureRandom().nextBytes(seed);
      return fromSeed(seed);
    }

    /** The seed of a private key made by {@link #fromSeed} (PKCS#8: the last 32 bytes). */
    static byte[] seed(PrivateKey key) {
      byte[] der = key.getEncoded();
      return Arrays.copyOfRange(der, der.length - KEY_BYTES, der.length);
    }

    static byte[] raw(PublicKey key) {
      byte[] der = key.getEncoded();
      return Arrays.copyOfRange(der, der.length - KEY_BYTES, der.length);
    }

    static PublicKey publicKey(byte[] raw) {
      if (raw.length != KEY_BYTES) {
        throw new IllegalArgumentException("an Ed25519 public key has " + KEY_BYTES + " bytes, this one " + raw.length);
      }
      byte[] der = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + KEY_BYTES);
      System.arraycopy(raw, 0, der, X509_PREFIX.length, KEY_BYTES);
      try {
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("not an Ed25519 public key: " + e.getMessage(), e);
      }
    }
  }
}
