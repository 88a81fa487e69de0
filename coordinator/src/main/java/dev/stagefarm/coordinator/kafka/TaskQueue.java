package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.proto.v1.StageTask;

/** Where stage tasks go: the task topic, consumed by the workers' share group. */
public interface TaskQueue extends AutoCloseable {
  void publish(StageTask task);

  @Override
  void close();
}
