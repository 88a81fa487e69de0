package dev.stagefarm.worker.kafka;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Idle task slots of one share group in this process take turns asking the broker for work: one
 * fetches at a time, and hands the turn on as soon as its poll returns (having taken a task or
 * not). Every idle slot fetching on its own cost each slot ~20 share fetches a second (the 50 ms
 * fetch wait that keeps the hand-off short), and the broker serialises concurrent fetches of one
 * share partition: a fan-out's tasks went out one per fetch-wait cycle and stalled behind each
 * other (issue 12: the 8th of 8 tasks waited 3.5 s with 8 slots free). In turns, a slot that takes a
 * task passes the turn at once and the next slot's fetch finds the next task without contention.
 *
 * <p>Turns are per share group and broker (slots of two farms in one JVM, as in tests, do not wait
 * on each other) and fair (FIFO), so every idle slot polls within a few fetch waits; a slot that
 * waited {@code maxWait} for its turn polls anyway, so a consumer is never left unpolled long.
 */
final class IdlePollers {
  private static final ConcurrentHashMap<String, Semaphore> TURNS = new ConcurrentHashMap<>();

  private final Semaphore turn;

  private IdlePollers(Semaphore turn) {
    this.turn = turn;
  }

  /** The turns of the idle slots of {@code groupId} on {@code bootstrapServers} in this process. */
  static IdlePollers of(String bootstrapServers, String groupId) {
    return new IdlePollers(TURNS.computeIfAbsent(bootstrapServers + "|" + groupId, k -> new Semaphore(1, true)));
  }

  /** A turn to poll; {@link Turn#close()} hands it on. */
  interface Turn extends AutoCloseable {
    /** Whether this slot holds the turn (false: it waited {@code maxWait} and polls anyway). */
    boolean held();

    @Override
    void close();
  }

  /**
   * Waits up to {@code maxWait} for the turn, in slices of {@code slice} so that a stop is noticed:
   * returns without the turn as soon as {@code stop} says so.
   */
  Turn await(Duration maxWait, Duration slice, BooleanSupplier stop) throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    boolean acquired = false;
    while (!acquired && !stop.getAsBoolean()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      acquired = turn.tryAcquire(Math.min(left, slice.toNanos()), TimeUnit.NANOSECONDS);
    }
    boolean held = acquired;
    return new Turn() {
      private boolean open = held;

      @Override
      public boolean held() {
        return held;
      }

      @Override
      public void close() {
        if (open) {
          open = false;
          turn.release();
        }
      }
    };
  }
}
