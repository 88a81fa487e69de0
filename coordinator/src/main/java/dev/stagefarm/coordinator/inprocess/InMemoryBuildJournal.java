package dev.stagefarm.coordinator.inprocess;

import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The journal of a coordinator that resumes nothing (the one-shot farm: it ends with its command):
 * the latest entry per build, in memory, for as long as the build is not forgotten. Bounded by the
 * coordinator's own limit on unfinished builds, which evicts ended ones through {@link #forget}.
 */
public final class InMemoryBuildJournal implements BuildJournal {
  private final Map<String, JournalEntry> entries = new ConcurrentHashMap<>();

  @Override
  public void record(JournalEntry entry) {
    entries.put(entry.buildId(), entry);
  }

  @Override
  public void forget(String buildId) {
    entries.remove(buildId);
  }

  /** Nothing: this journal starts empty in each process. */
  @Override
  public Collection<JournalEntry> replay() {
    return List.of();
  }

  @Override
  public void close() {
    entries.clear();
  }
}
