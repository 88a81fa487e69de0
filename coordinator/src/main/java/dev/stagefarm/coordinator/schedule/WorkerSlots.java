package dev.stagefarm.coordinator.schedule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The task slots of the live workers, from their slot reports: how many stages the coordinator may
 * have released and unfinished at once (docs/operations.md, "Scheduling").
 *
 * <p>The capacity counts every slot of the live workers, not their reported free ones: a free
 * count is stale by up to a report interval, while the scheduler's count of released, unfinished
 * stages is exact, so "released &lt; slots + margin" keeps the task topic's backlog at the margin.
 * Reports are signed like every event, but a worker of the farm could still lie: the numbers are
 * clamped and the table is bounded, so a flood of made-up worker ids cannot grow it.
 */
public final class WorkerSlots {
  /** Most workers tracked; a report from one more evicts the longest silent. */
  public static final int MAX_WORKERS = 4096;
  /** Most slots one worker is believed to have. */
  public static final int MAX_SLOTS_PER_WORKER = 1024;
  static final long MIN_INTERVAL_MS = 1_000;
  static final long MAX_INTERVAL_MS = 300_000;
  /** Reports a worker may miss before it counts as gone. */
  static final int MISSED_REPORTS = 3;

  private record Report(int slots, int free, long expiresMs) {}

  private final int margin;
  private final int unreported;
  /** Access order: the eldest entry is the longest silent worker. */
  private final LinkedHashMap<String, Report> workers = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Report> eldest) {
      return size() > MAX_WORKERS;
    }
  };

  /**
   * @param margin stages released beyond the slots, so a slot that frees finds the next task
   *     already on the topic instead of waiting for a round trip through the coordinator
   * @param unreported the capacity while no live worker has reported (older workers, or none yet)
   */
  public WorkerSlots(int margin, int unreported) {
    if (margin < 0 || unreported < 0) {
      throw new IllegalArgumentException("margin and unreported capacity must be >= 0");
    }
    this.margin = margin;
    this.unreported = unreported;
  }

  /** Records a worker's report received at {@code nowMs}. */
  public synchronized void report(String workerId, int slots, int free, long intervalMs, long nowMs) {
    if (workerId.isEmpty()) {
      return;
    }
    int s = Math.clamp(slots, 0, MAX_SLOTS_PER_WORKER);
    long interval = Math.clamp(intervalMs, MIN_INTERVAL_MS, MAX_INTERVAL_MS);
    workers.put(workerId, new Report(s, Math.clamp(free, 0, s), nowMs + MISSED_REPORTS * interval));
  }

  /** The live workers' slots plus the margin, or the unreported capacity when none is live. */
  public synchronized int capacity(long nowMs) {
    workers.values().removeIf(r -> r.expiresMs() < nowMs);
    if (workers.isEmpty()) {
      return unreported;
    }
    long slots = workers.values().stream().mapToLong(Report::slots).sum();
    return (int) Math.min(Integer.MAX_VALUE - (long) margin, slots) + margin;
  }

  /** Live workers, their slots and their free slots as last reported (for metrics). */
  public record Totals(int workers, int slots, int free) {}

  public synchronized Totals totals(long nowMs) {
    workers.values().removeIf(r -> r.expiresMs() < nowMs);
    int slots = 0;
    int free = 0;
    for (Report r : workers.values()) {
      slots += r.slots();
      free += r.free();
    }
    return new Totals(workers.size(), slots, free);
  }
}
