package dev.stagefarm.program;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Which {@link Ed25519Engine} this process signs and checks with: libsodium when it loads and
 * passes a known-answer test, else BouncyCastle; said once in the log. The system property {@value
 * #PROPERTY} ({@code auto}, {@code libsodium}, {@code bouncycastle}) overrides the choice
 * (docs/operations.md, "Farm keys").
 */
final class Ed25519Engines {
  static final String PROPERTY = "stagefarm.ed25519";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Ed25519Engines.class);

  private Ed25519Engines() {}

  /** The engine of this process, chosen on first use. */
  static Ed25519Engine chosen() {
    return Chosen.ENGINE;
  }

  private static final class Chosen {
    static final Ed25519Engine ENGINE = choose(System.getProperty(PROPERTY, "auto"));
  }

  static Ed25519Engine choose(String wanted) {
    String mode = wanted.strip().toLowerCase(Locale.ROOT);
    if (mode.equals("bouncycastle")) {
      log.info("Ed25519 (farm role keys): {}, as -D{}={} asks", BouncyCastleEd25519.INSTANCE.name(), PROPERTY, wanted);
      return BouncyCastleEd25519.INSTANCE;
    }
    if (!mode.equals("auto") && !mode.equals("libsodium")) {
      log.warn("-D{}={} is not auto, libsodium or bouncycastle; choosing as auto", PROPERTY, wanted);
    }
    String why;
    try {
      SodiumEd25519 sodium = SodiumEd25519.load();
      if (KnownAnswer.passes(sodium)) {
        log.info("Ed25519 (farm role keys): {}", sodium.name());
        return sodium;
      }
      why = sodium.name() + " failed the RFC 8032 known-answer test";
    } catch (LinkageError | RuntimeException e) {
      why = "libsodium could not be loaded (" + e.getMessage() + "; apt package libsodium23)";
    }
    log.info("Ed25519 (farm role keys): {}: {}", BouncyCastleEd25519.INSTANCE.name(), why);
    return BouncyCastleEd25519.INSTANCE;
  }

  /**
   * Whether {@code publicKey} is a point of the curve of the prime-order subgroup, not of small or
   * mixed order (BouncyCastle's full validation, done once per key at load): a verifier is made for
   * such keys only, so both engines judge signatures under the same keys.
   */
  static boolean validPublicKey(byte[] publicKey) {
    return publicKey.length == Ed25519Engine.KEY_BYTES
        && org.bouncycastle.math.ec.rfc8032.Ed25519.validatePublicKeyFull(publicKey, 0);
  }

  /** RFC 8032 section 7.1, TEST 2: a native library must give exactly these bytes before we use it. */
  static final class KnownAnswer {
    static final byte[] SEED = hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    static final byte[] PUBLIC = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
    static final byte[] MESSAGE = hex("72");
    static final byte[] SIGNATURE = hex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");

    private KnownAnswer() {}

    static boolean passes(Ed25519Engine engine) {
      byte[] signature = engine.signer(SEED, PUBLIC).sign(MESSAGE);
      Ed25519Engine.Verifier verifier = engine.verifier(PUBLIC);
      byte[] flipped = SIGNATURE.clone();
      flipped[0] ^= 1;
      return Arrays.equals(signature, SIGNATURE) && verifier.verify(MESSAGE, SIGNATURE)
          && !verifier.verify(MESSAGE, flipped);
    }

    private static byte[] hex(String digits) {
      return HexFormat.of().parseHex(digits);
    }
  }
}
