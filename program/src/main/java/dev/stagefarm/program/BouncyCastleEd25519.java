package dev.stagefarm.program;

import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * BouncyCastle's RFC 8032 Ed25519 (pure Java): the fallback where libsodium cannot be loaded. A
 * signer passes the public key along (BouncyCastle would derive it again per signature, a second
 * scalar multiplication); a verifier holds the public point decoded once.
 */
final class BouncyCastleEd25519 implements Ed25519Engine {
  static final BouncyCastleEd25519 INSTANCE = new BouncyCastleEd25519();

  private BouncyCastleEd25519() {}

  @Override
  public String name() {
    return "BouncyCastle (pure Java)";
  }

  @Override
  public Signer signer(byte[] seed, byte[] publicKey) {
    byte[] sk = seed.clone();
    byte[] pk = publicKey.clone();
    return message -> {
      byte[] signature = new byte[SIGNATURE_BYTES];
      Ed25519.sign(sk, 0, pk, 0, message, 0, message.length, signature, 0);
      return signature;
    };
  }

  @Override
  public Verifier verifier(byte[] publicKey) {
    Ed25519.PublicPoint point = Ed25519.validatePublicKeyFullExport(publicKey, 0);
    if (point == null) {
      return (message, signature) -> false;
    }
    return (message, signature) -> {
      if (signature == null || signature.length != SIGNATURE_BYTES) {
        return false;
      }
      try {
        return Ed25519.verify(signature, 0, point, message, 0, message.length);
      } catch (IllegalArgumentException e) {
        return false;
      }
    };
  }
}
