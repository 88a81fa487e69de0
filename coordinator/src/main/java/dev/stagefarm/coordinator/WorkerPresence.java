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
  /** Most workers tracked at once (as {@code WorkerSlots}); one more is not tracked until others go silent. */
  public static final int MAX_WORKERS = 4096;
  /** Most platforms one worker is believed to run (more than the farm routes). */
  static final int MAX_PLATFORMS = 32;

  private record Seen(List<Platform> platforms, long atMs) {}

  private final Clock clock;
  private final long listeningSinceMs;
  private final Map<String, Seen> workers = new ConcurrentHashMap<>();
  private volatile long prunedMs;

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
    if (now - prunedMs >= 1_000) { // workers that went silent are forgotten, so autoscaling churn cannot grow the map
      prunedMs = now;
      workers.values().removeIf(seen -> now - seen.atMs() > WINDOW.toMillis());
    }
    if (workers.size() >= MAX_WORKERS && !workers.containsKey(workerId)) {
      return; // a flood of made-up worker ids: the queue lease still decides for the platforms it hides
    }
    workers.put(workerId, new Seen(platforms.stream().limit(MAX_PLATFORMS).map(TaskRouting::normalize).toList(), now));
  }

  /** Workers currently remembered (for tests). */
  int tracked() {
    return workers.size();
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
