package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.program.CacheKey;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * One planning run's op-cache lookups: every stage's start as soon as its keys are known, all at
 * once, with at most {@code limit} requests to the store in flight (a 10,000-stage build does not
 * open 10,000 requests at once).
 *
 * <p>A stage's last op is asked for first: its key chains every earlier op's, and a stage is
 * complete from the cache only when every op hits, so a miss there settles the stage in one
 * request. Its other records are asked for (concurrently) only when the last one hits.
 */
final class CacheLookups implements AutoCloseable {
  /** Requests in flight per planning run, by default: enough to hide a store's latency, not to swamp it. */
  static final int DEFAULT_LIMIT = 32;

  private final CacheRecords cache;
  private final Semaphore inFlight;
  /** Virtual threads: a lookup is one blocking GET, and most of them wait for a permit. */
  private final ExecutorService stages = Executors.newVirtualThreadPerTaskExecutor();
  /** A hit stage's other ops: their own executor, still open while the stages' is closing. */
  private final ExecutorService earlierOps = Executors.newVirtualThreadPerTaskExecutor();

  CacheLookups(CacheRecords cache, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("cache lookup limit " + limit + " (at least 1)");
    }
    this.cache = cache;
    this.inFlight = new Semaphore(limit);
  }

  /** The stage's lookups, started now. */
  Pending stage(String stageName, List<CacheKey> keys) {
    return new Pending(stageName, keys, stages.submit(() -> records(keys)));
  }

  /** Every op's record, or empty when one of them misses. */
  private Optional<List<CachedOp>> records(List<CacheKey> keys) throws IOException, InterruptedException {
    if (keys.isEmpty()) {
      return Optional.of(List.of());
    }
    Optional<CachedOp> last = find(keys.getLast());
    if (last.isEmpty()) {
      return Optional.empty();
    }
    List<Future<Optional<CachedOp>>> earlier = new ArrayList<>();
    for (CacheKey key : keys.subList(0, keys.size() - 1)) {
      earlier.add(earlierOps.submit(() -> find(key)));
    }
    List<CachedOp> records = new ArrayList<>();
    for (Future<Optional<CachedOp>> lookup : earlier) {
      Optional<CachedOp> record = await(lookup);
      if (record.isEmpty()) {
        return Optional.empty();
      }
      records.add(record.get());
    }
    records.add(last.get());
    return Optional.of(records);
  }

  private Optional<CachedOp> find(CacheKey key) throws IOException, InterruptedException {
    inFlight.acquire();
    try {
      return cache.find(key);
    } finally {
      inFlight.release();
    }
  }

  private static Optional<CachedOp> await(Future<Optional<CachedOp>> lookup) throws IOException, InterruptedException {
    try {
      return lookup.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Waits for the lookups still running (none are left behind a planning run). */
  @Override
  public void close() {
    stages.close(); // waits for the stages' lookups, which wait for their earlier ops'
    earlierOps.close();
  }

  /** A stage's lookups under way. */
  record Pending(String stageName, List<CacheKey> keys, Future<Optional<List<CachedOp>>> records) {
    /**
     * Every op's record, or empty when one missed.
     *
     * @throws CacheUnreadable when the store could not be asked: planning every stage as a miss would
     *     send the whole build to workers that cannot read the store either
     */
    Optional<List<CachedOp>> get() {
      try {
        return records.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() instanceof IllegalStateException wrapped && wrapped.getCause() != null
            ? wrapped.getCause() : e.getCause();
        throw new CacheUnreadable("reading the op cache for stage " + stageName + " failed: "
            + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()), cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CacheUnreadable("interrupted while reading the op cache for stage " + stageName, e);
      }
    }
  }

  /** The op cache could not be read while planning: the farm's fault, not the Dockerfile's. */
  static final class CacheUnreadable extends RuntimeException {
    CacheUnreadable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
