package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A stage's writes to the farm's storage taken off its critical path: each op's layer blob upload
 * and then its cache record run here, in order, on one thread, while the next op executes. Order
 * is the guarantee: a cache record is written after the blob it names, and {@link #finish()} (which
 * the stage waits for before it reports its result, so before the completion event that lets a
 * stage on another worker read the blobs) after all of them. At most one task per op of the stage.
 */
final class StageUploads implements AutoCloseable {
  /** One write. */
  @FunctionalInterface
  interface Write {
    void run() throws IOException;
  }

  private final ExecutorService thread = Executors.newSingleThreadExecutor(
      Thread.ofVirtual().name("stage-upload").factory());
  /**
   * How long {@link #close()} lets the write in progress finish before it interrupts it: a cache
   * record or a small blob finishes well within it (interrupting it would only lose the record of an
   * op that succeeded); a large upload of a cancelled stage is interrupted.
   */
  static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

  private IOException failure; // the first; guarded by this
  private volatile boolean failed;
  /** Set by {@link #close()}: writes not started yet are dropped. */
  private volatile boolean dropped;

  /** Queues {@code write} after every write queued before it; a failure fails the stage at {@link #finish()}. */
  void submit(Write write) {
    thread.execute(() -> {
      if (failed || dropped) {
        return; // what follows a failed blob (its record) must not be written; after close nothing is
      }
      try {
        write.run();
      } catch (IOException | RuntimeException e) {
        synchronized (this) {
          if (failure == null) {
            failure = e instanceof IOException io ? io : new IOException(e.toString(), e);
          }
        }
        failed = true;
      }
    });
  }

  /** Waits until every queued write is done; throws the first that failed. */
  void finish() throws IOException {
    thread.shutdown();
    try {
      while (!thread.awaitTermination(1, TimeUnit.MINUTES)) {
        // an upload has its own timeouts in the store client; keep waiting for it
      }
    } catch (InterruptedException e) {
      thread.shutdownNow();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("stage cancelled while its layers were uploaded");
    }
    synchronized (this) {
      if (failure != null) {
        throw failure;
      }
    }
  }

  /**
   * Stops: the writes not started are dropped; the running one gets {@link #CLOSE_GRACE} to finish,
   * then is interrupted and waited for.
   */
  @Override
  public void close() {
    dropped = true;
    thread.shutdown();
    try {
      if (!thread.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        thread.shutdownNow();
        thread.awaitTermination(1, TimeUnit.MINUTES);
      }
    } catch (InterruptedException e) {
      thread.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
