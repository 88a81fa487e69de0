package dev.stagefarm.coordinator.progress;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * The progress of one build as a numbered sequence, so a watcher that reconnects asks for
 * everything after the last sequence it saw and misses nothing.
 *
 * <p>Bounded: once the entries or their bytes reach {@link Limits}, one "output truncated" log
 * entry is added and later output (log chunks, instruction results) is dropped; stage and build
 * status entries are still kept (their number is bounded by the build's stages and attempts), so
 * a watcher always learns how the build ended.
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

  /**
   * @param maxEntries output entries (log chunks, instruction results) kept per build
   * @param maxBytes serialized bytes of all entries kept per build
   */
  public record Limits(int maxEntries, long maxBytes) {
    /** 20,000 entries or 4 MiB per build: more than a worker streams for a typical build. */
    public static final Limits DEFAULT = new Limits(20_000, 4L << 20);

    public Limits {
      if (maxEntries < 1 || maxBytes < 1) {
        throw new IllegalArgumentException("progress limits must be positive: " + maxEntries + " entries, " + maxBytes + " bytes");
      }
    }
  }

  private final Clock clock;
  private final Limits limits;
  private final List<BuildProgress> entries = new ArrayList<>();
  private final List<Watcher> watchers = new ArrayList<>();
  private long bytes;
  private boolean truncated;
  private final long firstSequence;
  private boolean closed;

  /** A log numbered from 1 (epoch 0: the build's first coordinator). */
  public ProgressLog(Clock clock) {
    this(clock, Limits.DEFAULT, 0);
  }

  public ProgressLog(Clock clock, Limits limits) {
    this(clock, limits, 0);
  }

  /** A log numbered from {@link #firstSequence(long) firstSequence(epoch)}. */
  public ProgressLog(Clock clock, long epoch) {
    this(clock, Limits.DEFAULT, epoch);
  }

  public ProgressLog(Clock clock, Limits limits, long epoch) {
    this.clock = clock;
    this.limits = limits;
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
    boolean output = entry.hasLog() || entry.hasInstruction();
    if (output) {
      if (truncated) {
        return;
      }
      if (entries.size() >= limits.maxEntries() || bytes + entry.build().getSerializedSize() > limits.maxBytes()) {
        truncated = true;
        add(truncationMarker(entry.getLogStageId()));
        return;
      }
    }
    add(entry);
  }

  private BuildProgress.Builder truncationMarker(String stageId) {
    String text = "[stagefarm: output truncated: this build's progress reached the coordinator's limit of "
        + limits.maxEntries() + " entries or " + limits.maxBytes() + " bytes (progress-max-entries,"
        + " progress-max-bytes); later output is not kept, stage and build states still are]\n";
    return BuildProgress.newBuilder()
        .setLogStageId(stageId)
        .setLog(StageEvent.LogChunk.newBuilder().setStderr(true).setData(ByteString.copyFromUtf8(text)));
  }

  private void add(BuildProgress.Builder entry) {
    BuildProgress progress =
        entry.setSequence(firstSequence + entries.size()).setTimestampMs(clock.millis()).build();
    entries.add(progress);
    bytes += progress.getSerializedSize();
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

  /** Up to {@code max} entries after {@code afterSequence}, for a watcher that pulls at its own pace. */
  public synchronized List<BuildProgress> after(long afterSequence, int max) {
    // sequence firstSequence + i is at index i: a watcher from an earlier epoch starts at the first entry
    int from = (int) Math.min(Math.max(afterSequence - (firstSequence - 1), 0), entries.size());
    return List.copyOf(entries.subList(from, Math.min(entries.size(), from + max)));
  }

  public synchronized List<BuildProgress> entries() {
    return List.copyOf(entries);
  }

  /** Serialized bytes of the entries kept. */
  public synchronized long bytes() {
    return bytes;
  }

  public synchronized boolean truncated() {
    return truncated;
  }
}
