package dev.stagefarm.worker.kafka;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Which idle slot of a worker fetches: one at a time, so a worker's idle slots cost the broker one
 * stream of share fetches instead of one per slot (docs/protocol.md, "Claiming a task").
 *
 * <p>The holder keeps the turn until its consumer has acquired a record, never handing it on after
 * an empty poll: a share consumer whose poll came back empty keeps fetching in the background (the
 * Kafka 4.4 client stops only once a fetch acquires records), and what such a fetch acquires would
 * wait in a slot that no longer polls. Once a record is acquired the consumer stops fetching, and
 * the next idle slot's first fetch takes the next waiting task at once (the broker completes a
 * share fetch immediately when it can acquire; it does not wake a parked one when a record
 * arrives, so an idle fetcher's {@code fetch.max.wait.ms} bounds the hand-off).
 */
final class FetchTurn {
  /** Fair: the slot idle longest fetches next. */
  private final Semaphore token = new Semaphore(1, true);

  /** Waits up to {@code slice} for the turn; true when the caller holds it now. */
  boolean await(Duration slice) throws InterruptedException {
    return token.tryAcquire(slice.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Hands the turn to the next idle slot (the caller held it). */
  void handOn() {
    token.release();
  }
}
