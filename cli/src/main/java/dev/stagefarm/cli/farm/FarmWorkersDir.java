package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.HeldLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code <home>/workers}, held by the one farm of the home that runs its workers there: the local farm or
 * {@code stagefarm up} (the one-shot farms have slots of their own: {@link OneShotWorkDir}). Beside the workers' own
 * work dirs (each locked by its worker) it holds what the farm's workers share — the unpacked layers and the RUN
 * network pool, whose start removes what it finds in {@code netns/} — so a second farm is refused before it starts
 * anything, naming the holder. The lock ({@code <home>/workers.lock}) goes with the process: a killed farm frees it.
 */
final class FarmWorkersDir implements AutoCloseable {
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
