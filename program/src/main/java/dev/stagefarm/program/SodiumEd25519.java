package dev.stagefarm.program;

import com.sun.jna.Pointer;
import java.util.Arrays;
import java.util.List;

/**
 * libsodium's Ed25519 through JNA's direct mapping (the FFM API is a preview in Java 21, our
 * release): ~4x cheaper per signature and check than BouncyCastle's pure Java, which was ~0.7 ms of a
 * dispatched stage's CPU on the Kafka-backed farm (bench/README.md, "Session 11 (issue 12):
 * dispatch"). libsodium's check is strict (canonical S, no small-order R or public key, R compared
 * encoded): it accepts what {@link BouncyCastleEd25519} accepts for the keys we load, which
 * {@code Ed25519EnginesTest} checks case by case.
 */
final class SodiumEd25519 implements Ed25519Engine {
  /** Tried in order: the unversioned name needs libsodium-dev, the versioned one is what libsodium23 installs. */
  private static final List<String> LIBRARY_NAMES = List.of("sodium", "libsodium.so.23", "libsodium.so.26");

  /** Bound once per process (JNA registers the natives of {@link Calls} once). */
  private static SodiumEd25519 loaded;

  private SodiumEd25519() {}

  /**
   * libsodium bound and initialised.
   *
   * @throws UnsatisfiedLinkError or another {@link LinkageError} when JNA or libsodium cannot be loaded
   * @throws IllegalStateException when {@code sodium_init} fails
   */
  static synchronized SodiumEd25519 load() {
    if (loaded != null) {
      return loaded;
    }
    dev.stagefarm.oci.NativeCalls.register(Calls.class, LIBRARY_NAMES);
    if (Calls.sodium_init() < 0) { // 0: initialised now, 1: already
      throw new IllegalStateException("sodium_init() failed");
    }
    loaded = new SodiumEd25519();
    return loaded;
  }

  @Override
  public String name() {
    return "libsodium " + Calls.sodium_version_string();
  }

  @Override
  public Signer signer(byte[] seed, byte[] publicKey) {
    // libsodium's secret key: the seed, then the public key (which it does not derive again)
    byte[] sk = Arrays.copyOf(seed, 2 * KEY_BYTES);
    System.arraycopy(publicKey, 0, sk, KEY_BYTES, KEY_BYTES);
    return message -> {
      byte[] signature = new byte[SIGNATURE_BYTES];
      if (Calls.crypto_sign_ed25519_detached(signature, null, message, message.length, sk) != 0) {
        throw new IllegalStateException("libsodium's crypto_sign_ed25519_detached failed");
      }
      return signature;
    };
  }

  @Override
  public Verifier verifier(byte[] publicKey) {
    byte[] pk = publicKey.clone();
    return (message, signature) -> signature != null && signature.length == SIGNATURE_BYTES
        && Calls.crypto_sign_ed25519_verify_detached(signature, message, message.length, pk) == 0;
  }

  /** The C functions (JNA direct mapping: registered natives, no proxy per call). */
  static final class Calls {
    private Calls() {}

    static native int sodium_init();

    static native String sodium_version_string();

    static native int crypto_sign_ed25519_detached(byte[] sig, Pointer siglen, byte[] m, long mlen, byte[] sk);

    static native int crypto_sign_ed25519_verify_detached(byte[] sig, byte[] m, long mlen, byte[] pk);
  }
}
