package dev.stagefarm.coordinator.port;

import java.util.concurrent.CompletableFuture;

/** Where ready stages go: in production the task topic, consumed by the workers' share group. */
public interface TaskQueue extends AutoCloseable {
  /**
   * Hands the stage to the workers. The future completes when the queue has it, or fails with a
   * {@link PublishException}: a retriable one is left to the stage's queue lease, any other fails
   * the build.
   */
  CompletableFuture<Void> publish(StageJob job);

  /** The task was not published; {@code retriable} when trying again later may succeed. */
  final class PublishException extends RuntimeException {
    private final boolean retriable;

    public PublishException(String message, boolean retriable, Throwable cause) {
      super(message, cause);
      this.retriable = retriable;
    }

    public boolean retriable() {
      return retriable;
    }
  }

  @Override
  void close();
}
