package dev.stagefarm.program;

/**
 * Ed25519 (RFC 8032, pure, no context) as farm role keys sign and check with it: a signer made once
 * per private key, a verifier once per public key, so the per-message work is the signature itself.
 * Two implementations that give the same bytes (Ed25519 is deterministic) and accept the same
 * signatures: libsodium's through JNA ({@link SodiumEd25519}), several times cheaper, and
 * BouncyCastle's pure Java ({@link BouncyCastleEd25519}), the fallback where libsodium is absent.
 * {@link Ed25519Engines#chosen()} picks one per process (docs/operations.md, "Farm keys").
 */
interface Ed25519Engine {
  int SIGNATURE_BYTES = 64;
  int KEY_BYTES = 32;

  /** Names the implementation in the log line that says which one a process uses. */
  String name();

  /**
   * @param seed the private key's 32 bytes (RFC 8032's seed)
   * @param publicKey its public key's 32 bytes, derived from the seed by the caller
   */
  Signer signer(byte[] seed, byte[] publicKey);

  /**
   * A verifier for {@code publicKey}, which the caller has validated
   * ({@link Ed25519Engines#validPublicKey}): both engines then check signatures the same way.
   */
  Verifier verifier(byte[] publicKey);

  /** Signs messages with one private key; thread-safe. */
  interface Signer {
    byte[] sign(byte[] message);
  }

  /** Checks signatures of one public key; thread-safe. */
  interface Verifier {
    /** False for anything but a valid 64-byte signature of {@code message} by this key. */
    boolean verify(byte[] message, byte[] signature);
  }
}
