package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.HeldLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The directory a one-shot farm's workers live in, held for that farm only: {@code <home>/oneshot/<n>}, the first
 * {@code n} whose lock no other process (or farm of this one) holds. The local farm and {@code stagefarm up} of the
 * same home keep theirs in {@code <home>/workers}: a one-shot worker's start-up cleanup (which unmounts what a killed
 * predecessor left in its work dir) must never run in a work dir a running farm's worker is using. One-shot builds
 * run one after another take slot 1 again, so its unpacked layers stay warm; a killed one-shot's leftovers are
 * cleaned by the next worker to start there. The lock goes with the process, so a killed holder frees its slot.
 */
final class OneShotWorkDir implements AutoCloseable {
  /** How many one-shot farms may run at once in one home. */
  static final int MAX_SLOTS = 64;

  private final Path dir;
  private final HeldLock lock;

  private OneShotWorkDir(Path dir, HeldLock lock) {
    this.dir = dir;
    this.lock = lock;
  }

  /**
   * Takes the first free slot under {@code home}.
   *
   * @throws IOException when {@link #MAX_SLOTS} one-shot farms already run in {@code home}, naming the limit
   */
  static OneShotWorkDir take(Path home) throws IOException {
    Path root = Files.createDirectories(home.resolve("oneshot"));
    for (int n = 1; n <= MAX_SLOTS; n++) {
      HeldLock.Result held = HeldLock.tryHold(root.resolve(n + ".lock"), HeldLock.thisProcess("a one-shot build"));
      if (held.held() != null) {
        return new OneShotWorkDir(root.resolve(Integer.toString(n)), held.held());
      }
    }
    throw new IOException(MAX_SLOTS + " one-shot builds already run in " + home
        + " (the limit of one-shot farms per STAGEFARM_HOME): wait for one, or use the local farm");
  }

  /** Where the farm's workers put their work dirs (and their shared unpacked layers). */
  Path workers() {
    return dir;
  }

  /** Frees the slot: after the farm's workers have stopped. */
  @Override
  public void close() throws IOException {
    lock.close();
  }
}
