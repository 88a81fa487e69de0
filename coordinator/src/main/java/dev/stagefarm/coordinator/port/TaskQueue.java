package dev.stagefarm.coordinator.port;

/** Where ready stages go: in production the task topic, consumed by the workers' share group. */
public interface TaskQueue extends AutoCloseable {
  /**
   * Hands the stage to the workers and returns once it is durable. Called by the coordinator's
   * outbox thread only, never under the scheduler's lock.
   *
   * @throws WriteFailure when it was not written (retriable, refused or fenced)
   */
  void publish(StageJob job);

  @Override
  void close();
}
