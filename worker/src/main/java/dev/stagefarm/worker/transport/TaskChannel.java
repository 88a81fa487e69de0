package dev.stagefarm.worker.transport;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One slot's connection to the task queue: a share-group member that holds at most one task at a
 * time. Its life cycle follows Kafka's share consumer, which the slot was written against:
 * {@link #poll} hands out a new task only while the member holds none; a held task whose lock was
 * renewed ({@link Ack#RENEW}) comes back on a later poll (when the slot renews again or reports the
 * outcome); {@link #acknowledge} settles it. Not thread-safe: one slot thread calls everything but
 * {@link #wakeup()}.
 */
public interface TaskChannel extends AutoCloseable {
  /** Joins the group for these task topics. */
  void subscribe(List<String> topics);

  /** Leaves the group: whatever the member holds goes back to the queue. */
  void unsubscribe();

  /**
   * Waits up to {@code timeout} for a task (or the held one's return).
   *
   * @throws Woken when {@link #wakeup()} was called before or during the wait
   * @throws Unavailable when the queue could not be reached; the call may succeed later
   */
  List<TaskDelivery> poll(Duration timeout);

  /** Settles or renews the held task; takes effect by the next {@link #commit} or {@link #poll}. */
  void acknowledge(TaskDelivery delivery, Ack ack);

  /**
   * Sends the acknowledgements made so far and waits for the answer (failures reach the listener).
   *
   * @throws Woken when a {@link #wakeup()} interrupted it (Kafka; the caller retries once)
   * @throws Unavailable when the queue could not be reached
   */
  void commit(Duration timeout);

  /** Makes the current or next {@link #poll} return at once by throwing {@link Woken}. Thread-safe. */
  void wakeup();

  /** The record lock the queue gives a claim, when known. */
  Optional<Duration> lockDuration();

  /** Called (on the slot's thread, during poll or commit) when acknowledgements failed: the lock was lost. */
  void onAcknowledgeFailure(Consumer<AckFailure> listener);

  /** Leaves the group, giving back what the member holds. */
  @Override
  void close();

  /** Acknowledgements of these offsets of one partition failed. */
  record AckFailure(String topic, int partition, Set<Long> offsets, Exception error) {}

  /** A {@link #wakeup()} interrupted the call. */
  final class Woken extends RuntimeException {
    public Woken() {
      super("woken up", null, false, false);
    }
  }

  /** The queue could not be reached or was too slow; the call may succeed later. */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
