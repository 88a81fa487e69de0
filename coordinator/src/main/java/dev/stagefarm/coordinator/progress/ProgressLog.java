package dev.stagefarm.coordinator.progress;

import dev.stagefarm.proto.v1.BuildProgress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * The progress of one build as a numbered sequence, so a watcher that reconnects asks for
 * everything after the last sequence it saw and misses nothing.
 *
 * <p>Numbers keep growing across coordinators: the coordinator that resumes a build after a
 * restart or take-over numbers its entries from the build's next <em>epoch</em> ({@link
 * #firstSequence(long)}), which the journal records, so a watcher's last sequence from an earlier
 * coordinator is always below every entry of the new one (no entry is delivered twice, none
 * skipped).
 */
public final class ProgressLog {
  /** Entries one coordinator may number in one build; far above any build's progress. */
  public static final long EPOCH_SIZE = 1_000_000_000L;

  /** Receives progress entries; {@link #end()} after the build's final entry. */
  public interface Watcher {
    void next(BuildProgress progress);

    void end();
  }

  private final Clock clock;
  private final List<BuildProgress> entries = new ArrayList<>();
  private final List<Watcher> watchers = new ArrayList<>();
  private final long firstSequence;
  private boolean closed;

  /** A log numbered from 1 (epoch 0: the build's first coordinator). */
  public ProgressLog(Clock clock) {
    this(clock, 0);
  }

  /** A log numbered from {@link #firstSequence(long) firstSequence(epoch)}. */
  public ProgressLog(Clock clock, long epoch) {
    this.clock = clock;
    this.firstSequence = firstSequence(epoch);
  }

  /** The first sequence number of an epoch: 1, 1_000_000_001, 2_000_000_001, … */
  public static long firstSequence(long epoch) {
    return epoch * EPOCH_SIZE + 1;
  }

  /** Numbers, stores and delivers an entry; ignored once the log is closed. */
  public synchronized void append(BuildProgress.Builder entry) {
    if (closed) {
      return;
    }
    BuildProgress progress =
        entry.setSequence(firstSequence + entries.size()).setTimestampMs(clock.millis()).build();
    entries.add(progress);
    List.copyOf(watchers).forEach(w -> w.next(progress));
  }

  /** Marks the log complete (after the final build status) and ends every watcher. */
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    List.copyOf(watchers).forEach(Watcher::end);
    watchers.clear();
  }

  /** Replays entries after {@code afterSequence}, then delivers new ones as they come. */
  public synchronized void watch(long afterSequence, Watcher watcher) {
    for (BuildProgress progress : entries) {
      if (progress.getSequence() > afterSequence) {
        watcher.next(progress);
      }
    }
    if (closed) {
      watcher.end();
    } else {
      watchers.add(watcher);
    }
  }

  public synchronized void unwatch(Watcher watcher) {
    watchers.remove(watcher);
  }

  public synchronized List<BuildProgress> entries() {
    return List.copyOf(entries);
  }
}
