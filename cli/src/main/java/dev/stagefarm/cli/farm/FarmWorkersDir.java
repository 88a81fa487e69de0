package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.HeldLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The directory a farm's workers live in, held by that farm alone. Beside the workers' own work dirs (each locked by
 * its worker) it holds what the farm's workers share — the unpacked layers and the RUN network pool, whose start
 * removes what it finds in {@code netns/} — and a worker's start-up cleanup unmounts what a killed predecessor left
 * in its work dir, so two farms must never share one. Two kinds:
 * <ul>
 *   <li>{@link #hold}: {@code <home>/workers}, for the one farm of the home that runs its workers there (the local
 *       farm or {@code stagefarm up}); a second is refused before it starts anything, naming the holder;
 *   <li>{@link #takeOneShotSlot}: {@code <home>/oneshot/<n>}, the first slot no other one-shot farm holds. One-shot
 *       builds run one after another take slot 1 again, so its unpacked layers stay warm; a killed one-shot's
 *       leftovers are cleaned by the next worker to start there.
 * </ul>
 * The lock goes with the process: a killed holder frees it.
 */
final class FarmWorkersDir implements AutoCloseable {
  /** How many one-shot farms may run at once in one home. */
  static final int MAX_ONE_SHOT_SLOTS = 64;

  private final Path dir;
  private final HeldLock lock;

  private FarmWorkersDir(Path dir, HeldLock lock) {
    this.dir = dir;
    this.lock = lock;
  }

  /**
   * Takes {@code <home>/workers} for the farm {@code farm} of this process (e.g. "the local farm").
   *
   * @throws IOException when another farm holds it: naming that farm (its pid) and what to do instead
   */
  static FarmWorkersDir hold(Path home, String farm) throws IOException {
    Files.createDirectories(home);
    HeldLock.Result taken = HeldLock.tryHold(home.resolve("workers.lock"), HeldLock.thisProcess(farm));
    if (taken.refusal() != null) {
      throw new IOException(home.resolve("workers") + " is in use by " + taken.refusal().holder()
          + ", whose workers run there (lock " + taken.refusal().file() + "): build on that farm (stagefarm up:"
          + " --coordinator; the local farm: stagefarm build without it), stop it (stagefarm farm stop, or Ctrl-C"
          + " for stagefarm up), or give this farm another home (STAGEFARM_HOME; stagefarm up --data DIR)");
    }
    return new FarmWorkersDir(home.resolve("workers"), taken.held());
  }

  /**
   * Takes the first free one-shot slot under {@code home}.
   *
   * @throws IOException when {@link #MAX_ONE_SHOT_SLOTS} one-shot farms already run in {@code home}, naming the limit
   */
  static FarmWorkersDir takeOneShotSlot(Path home) throws IOException {
    Path root = Files.createDirectories(home.resolve("oneshot"));
    for (int n = 1; n <= MAX_ONE_SHOT_SLOTS; n++) {
      HeldLock.Result held = HeldLock.tryHold(root.resolve(n + ".lock"), HeldLock.thisProcess("a one-shot build"));
      if (held.held() != null) {
        return new FarmWorkersDir(root.resolve(Integer.toString(n)), held.held());
      }
    }
    throw new IOException(MAX_ONE_SHOT_SLOTS + " one-shot builds already run in " + home
        + " (the limit of one-shot farms per STAGEFARM_HOME): wait for one, or use the local farm");
  }

  /** Where the farm's workers put their work dirs ({@code worker-N}), unpacked layers and RUN network pool. */
  Path workers() {
    return dir;
  }

  /** Frees the dir: after the farm's workers have stopped. */
  @Override
  public void close() throws IOException {
    lock.close();
  }
}
