package dev.stagefarm.coordinator.port;

import java.util.Collection;

/** The coordinator's durable build state: the latest entry per build id. */
public interface BuildJournal extends AutoCloseable {
  /**
   * Stores the entry and returns once it is durable. Called by the coordinator's outbox thread
   * only.
   *
   * @throws WriteFailure when it was not written (retriable, refused or fenced)
   */
  void record(JournalEntry entry);

  /**
   * Whether {@link #record} takes {@linkplain JournalEntry#whole() partial} entries: the stages
   * changed since the build's previous entry, merged into what it holds of the build. False: every
   * entry is whole.
   */
  default boolean takesPartialEntries() {
    return false;
  }

  /**
   * Drops the build's record (on a compacted Kafka topic: a tombstone), so a restart does not
   * replay it; a failure is logged (the record is then replayed and evicted again).
   */
  void forget(String buildId);

  /** The latest entry of every build ever recorded. */
  Collection<JournalEntry> replay();

  @Override
  void close();
}
