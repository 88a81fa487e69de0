package dev.stagefarm.coordinator.inprocess;

import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The journal of a coordinator that resumes nothing (the one-shot farm, and the local farm: each
 * ends with its process, and a new process starts with no builds): nothing is ever replayed, so
 * nothing is kept. A journal that kept the latest entry per build would hold every build of the
 * last retention period (requests, stage results) in the memory of a farm that runs for hours,
 * for no reader. It only counts what it was handed (diagnostics, tests).
 */
public final class InMemoryBuildJournal implements BuildJournal {
  private final AtomicLong recorded = new AtomicLong();

  @Override
  public void record(JournalEntry entry) {
    recorded.incrementAndGet();
  }

  @Override
  public void forget(String buildId) {
    // nothing kept
  }

  /** Nothing: this journal starts empty in each process and keeps nothing. */
  @Override
  public Collection<JournalEntry> replay() {
    return List.of();
  }

  /** How many entries it was handed (and dropped). */
  public long recorded() {
    return recorded.get();
  }

  @Override
  public void close() {}
}
