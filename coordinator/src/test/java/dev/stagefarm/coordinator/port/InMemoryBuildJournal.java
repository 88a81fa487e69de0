package dev.stagefarm.coordinator.port;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** A journal that keeps the latest entry per build, as the compacted topic does. */
public final class InMemoryBuildJournal implements BuildJournal {
  private final Map<String, JournalEntry> latest = new LinkedHashMap<>();

  @Override
  public synchronized void record(JournalEntry entry) {
    latest.put(entry.buildId(), entry);
  }

  @Override
  public synchronized void forget(String buildId) {
    latest.remove(buildId);
  }

  @Override
  public synchronized Collection<JournalEntry> replay() {
    return new ArrayList<>(latest.values());
  }

  @Override
  public void close() {}
}
