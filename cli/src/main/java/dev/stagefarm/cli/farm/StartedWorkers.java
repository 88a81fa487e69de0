package dev.stagefarm.cli.farm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * An embedded farm's workers: started in parallel, stopped in parallel (each stop waits for its slots to leave
 * and its running stages to end).
 */
final class StartedWorkers implements AutoCloseable {
  /** Stops run concurrently; virtual threads, as stopping is mostly waiting. */
  private static final Executor STOPPER = Executors.newVirtualThreadPerTaskExecutor();

  private final List<AutoCloseable> started = new ArrayList<>();
  private Exception failure;

  private StartedWorkers() {}

  /** Waits for every start; keeps the started workers and the first failure. */
  static StartedWorkers join(List<CompletableFuture<AutoCloseable>> starts) {
    StartedWorkers workers = new StartedWorkers();
    for (CompletableFuture<AutoCloseable> start : starts) {
      try {
        workers.started.add(start.join());
      } catch (CompletionException e) {
        if (workers.failure == null) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          workers.failure = cause instanceof Exception ex ? ex : new IllegalStateException(cause);
        }
      }
    }
    return workers;
  }

  void throwFailure() throws Exception {
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void close() throws Exception {
    List<CompletableFuture<Void>> stops = new ArrayList<>();
    for (AutoCloseable worker : started) {
      stops.add(CompletableFuture.runAsync(() -> {
        try {
          worker.close();
        } catch (Exception e) {
          throw new CompletionException(e);
        }
      }, STOPPER));
    }
    Exception first = null;
    for (CompletableFuture<Void> stop : stops) {
      try {
        stop.join();
      } catch (CompletionException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
