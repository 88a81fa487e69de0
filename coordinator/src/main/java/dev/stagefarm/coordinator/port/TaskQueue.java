package dev.stagefarm.coordinator.port;

import java.util.concurrent.CompletableFuture;

/** Where ready stages go: in production the task topic, consumed by the workers' share group. */
public interface TaskQueue extends AutoCloseable {
  /**
   * Hands the stage to the workers and returns once it is durable. Called by the coordinator's
   * outbox thread only, never under the scheduler's lock.
   *
   * @throws WriteFailure when it was not written (retriable, refused or fenced)
   */
  void publish(StageJob job);

  /**
   * Work this queue may do for these tasks ahead of their {@link #publish} (with Kafka: encode and
   * sign each), on as many cores as it likes. Called by the outbox thread before a round's writes,
   * with the tasks it is about to publish (the same objects); the default does nothing, and a task
   * that was not prepared is published all the same.
   */
  default void prepare(java.util.List<StageJob> jobs) {}

  /**
   * Whether {@link #inOneWrite} makes its writes atomic (all visible or none): only then does the
   * outbox group several writes into one.
   */
  default boolean groupsWrites() {
    return false;
  }

  /**
   * Runs {@code writes} (this queue's publishes and the journal's records, on the outbox thread) as
   * one write: with Kafka one transaction, so they become visible together or not at all and the
   * commit's round trips are paid once per group instead of once per task. The default runs them
   * one by one ({@link #groupsWrites()} false).
   *
   * @throws WriteFailure when the group failed as a whole (none of its writes is visible)
   */
  default void inOneWrite(Runnable writes) {
    writes.run();
  }

  @Override
  void close();
}
