package dev.stagefarm.program;

import java.security.SecureRandom;
import java.util.List;

/**
 * Microseconds per Ed25519 signature and check, libsodium against BouncyCastle, on a message the
 * size of a task record (bench/ed25519.sh; bench/README.md, "Session 11 (issue 12): dispatch"). A
 * plain loop after a warm-up, not JMH: the difference measured is several-fold. Not a test.
 */
public final class Ed25519Bench {
  private Ed25519Bench() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int bytes = args.length > 1 ? Integer.parseInt(args[1]) : 400;
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    byte[] publicKey = FarmKey.Ed25519.raw(FarmKey.Ed25519.fromSeed(seed).getPublic());
    byte[] message = new byte[bytes];
    new SecureRandom().nextBytes(message);
    List<Ed25519Engine> engines = List.of(SodiumEd25519.load(), BouncyCastleEd25519.INSTANCE);
    for (int pass = 0; pass < 2; pass++) { // the first pass warms the JIT up
      for (Ed25519Engine engine : engines) {
        Ed25519Engine.Signer signer = engine.signer(seed, publicKey);
        Ed25519Engine.Verifier verifier = engine.verifier(publicKey);
        byte[] signature = signer.sign(message);
        long cpu0 = cpu();
        for (int i = 0; i < rounds; i++) {
          signature = signer.sign(message);
        }
        long cpu1 = cpu();
        int valid = 0;
        for (int i = 0; i < rounds; i++) {
          valid += verifier.verify(message, signature) ? 1 : 0;
        }
        long cpu2 = cpu();
        if (valid != rounds) {
          throw new IllegalStateException(engine.name() + ": " + (rounds - valid) + " checks failed");
        }
        if (pass == 1) {
          System.out.printf("BENCH ed25519 %-26s sign %6.1f us  verify %6.1f us  (%d rounds, %d-byte message, thread CPU)%n",
              engine.name(), (cpu1 - cpu0) / 1e3 / rounds, (cpu2 - cpu1) / 1e3 / rounds, rounds, bytes);
        }
      }
    }
  }

  private static long cpu() {
    return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
  }
}
