package dev.stagefarm.coordinator.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.IntConsumer;

/**
 * CPU-bound work on each record of a batch (an Ed25519 signature or check: most of a task's or an
 * event's cost in the coordinator, issue 12's profiles) spread over every core: the calling thread
 * takes one slice of the indices, helper threads the others. The helpers are shared by the
 * process's Kafka adapters (the event stream's checks, the task queue's signatures) and are daemon
 * threads that cost nothing idle, so a coordinator's term that ends leaves none behind.
 */
final class CoreSlices {
  /** Fewer items than this are done on the calling thread alone (handing off costs more). */
  static final int PARALLEL_MIN = 16;
  private static final int CORES = Runtime.getRuntime().availableProcessors();
  /** {@code cores - 1} helpers; none on a one-core machine. */
  private static final ExecutorService HELPERS = CORES < 2 ? null
      : Executors.newFixedThreadPool(CORES - 1, Thread.ofPlatform().daemon().name("stagefarm-signatures-", 0).factory());

  private CoreSlices() {}

  /**
   * Runs {@code each} for every index below {@code size}, in slices over the cores, and returns
   * when all have run. {@code each} must touch only its index's data (each slot is one thread's).
   *
   * @throws InterruptedException when the calling thread was interrupted while the helpers ran
   * @throws IllegalStateException when {@code each} threw on a helper
   */
  static void forEach(int size, IntConsumer each) throws InterruptedException {
    int slices = HELPERS == null || size < PARALLEL_MIN ? 1 : Math.min(CORES, size / (PARALLEL_MIN / 2));
    List<Future<?>> others = new ArrayList<>();
    try {
      for (int slice = 1; slice < slices; slice++) {
        int first = slice;
        others.add(HELPERS.submit(() -> slice(size, first, slices, each)));
      }
    } catch (RejectedExecutionException cannot) {
      others.forEach(f -> f.cancel(false));
      slice(size, 0, 1, each); // the calling thread does it all (idempotent per index)
      return;
    }
    slice(size, 0, slices, each);
    for (Future<?> other : others) {
      try {
        other.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("a helper's slice failed", e.getCause());
      }
    }
  }

  /** Indices {@code first}, {@code first + step}, …. */
  private static void slice(int size, int first, int step, IntConsumer each) {
    for (int i = first; i < size; i += step) {
      each.accept(i);
    }
  }
}
