package dev.stagefarm.worker.transport;

import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;

/** Where a worker's events go, signed with the farm key (the coordinator ignores unsigned ones). Thread-safe. */
public interface EventSink extends AutoCloseable {
  /** Sends without waiting (progress: heartbeats, logs, instruction done, presence); a failure is logged. */
  void publish(StageEvent event);

  /**
   * Sends and waits until it is taken: the outcome (completed/failed) must be before the task is
   * acknowledged.
   *
   * @throws PublishFailed when it was not taken in time
   */
  void publishDurably(StageEvent event, Duration timeout);

  @Override
  void close();

  /** An event could not be published (the transport unreachable or too slow). */
  class PublishFailed extends RuntimeException {
    public PublishFailed(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
