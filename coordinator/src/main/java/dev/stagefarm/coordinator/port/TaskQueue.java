package dev.stagefarm.coordinator.port;

/** Where ready stages go: in production the task topic, consumed by the workers' share group. */
public interface TaskQueue extends AutoCloseable {
  /** Hands the stage to the workers; a failure is logged, and the stage's lease re-dispatches it. */
  void publish(StageJob job);

  @Override
  void close();
}
