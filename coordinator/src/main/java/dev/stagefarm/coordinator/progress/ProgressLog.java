package dev.stagefarm.coordinator.progress;

import dev.stagefarm.proto.v1.BuildProgress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * The progress of one build as a numbered sequence, so a watcher that reconnects asks for
 * everything after the last sequence it saw and misses nothing.
 */
public final class ProgressLog {
  /** Receives progress entries; {@link #end()} after the build's final entry. */
  public interface Watcher {
    void next(BuildProgress progress);

    void end();
  }

  private final Clock clock;
  private final List<BuildProgress> entries = new ArrayList<>();
  private final List<Watcher> watchers = new ArrayList<>();
  private boolean closed;

  public ProgressLog(Clock clock) {
    this.clock = clock;
  }

  /** Numbers, stores and delivers an entry; ignored once the log is closed. */
  public synchronized void append(BuildProgress.Builder entry) {
    if (closed) {
      return;
    }
    BuildProgress progress =
        entry.setSequence(entries.size() + 1L).setTimestampMs(clock.millis()).build();
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
