package dev.stagefarm.coordinator;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.TaskRouting;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which platforms the farm's workers run, from the presence events each worker process sends every
 * few seconds ({@code worker_present}). A platform no worker announced within {@link #WINDOW} has
 * nobody to take its tasks: the coordinator fails such a build at once instead of letting its
 * task wait out the queue lease. It concludes only once it has listened for a whole window and
 * heard at least one worker, so a coordinator just elected, or a farm of workers too old to
 * announce themselves, falls back to the queue lease. Thread-safe.
 */
public final class WorkerPresence {
  /** Three of the workers' announcement intervals (5 s): one lost announcement is no absence. */
  public static final Duration WINDOW = Duration.ofSeconds(15);

  private record Seen(List<Platform> platforms, long atMs) {}

  private final Clock clock;
  private final long listeningSinceMs;
  private final Map<String, Seen> workers = new ConcurrentHashMap<>();

  public WorkerPresence(Clock clock) {
    this.clock = clock;
    this.listeningSinceMs = clock.millis();
  }

  /** A worker announced itself; {@code sentMs} by its clock (an announcement older than the window is a replay). */
  public void seen(String workerId, List<Platform> platforms, long sentMs) {
    long now = clock.millis();
    if (now - sentMs > WINDOW.toMillis()) {
      return;
    }
    workers.put(workerId, new Seen(platforms.stream().map(TaskRouting::normalize).toList(), now));
  }

  /**
   * Why no worker can take a task of {@code platform}, or empty when one can, or when it is too
   * early to tell.
   */
  public Optional<String> noWorkerFor(Platform platform) {
    long now = clock.millis();
    if (now - listeningSinceMs < WINDOW.toMillis()) {
      return Optional.empty();
    }
    TreeSet<String> running = new TreeSet<>();
    for (Seen seen : workers.values()) {
      if (now - seen.atMs() <= WINDOW.toMillis()) {
        seen.platforms().forEach(p -> running.add(p.toString()));
      }
    }
    Platform wanted = TaskRouting.normalize(platform);
    if (running.isEmpty() || running.contains(wanted.toString())) {
      return Optional.empty();
    }
    return Optional.of("no worker runs " + wanted + ": the workers that announced themselves in the last "
        + WINDOW.toSeconds() + "s run " + String.join(", ", running)
        + " (a worker's platforms setting; another platform runs under qemu-user-static)");
  }
}
