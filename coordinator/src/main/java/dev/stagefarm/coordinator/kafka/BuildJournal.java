package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.proto.v1.BuildRecord;
import java.util.Collection;

/** The coordinator's durable build state: the latest record per build id. */
public interface BuildJournal extends AutoCloseable {
  void record(BuildRecord record);

  /** The latest record of every build ever recorded (compaction keeps one per build id). */
  Collection<BuildRecord> replay();

  @Override
  void close();
}
