package dev.stagefarm.cli.farm;

import dev.stagefarm.coordinator.CoordinatorNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntFunction;

/**
 * An embedded farm's workers, started with the farm ({@link #startNow}: the local farm, {@code stagefarm up}) or one
 * per task published on its bus ({@link #taskPublished}: the one-shot farm, bench/README.md "Session 10" and "Session
 * 12"), up to their number: a build whose every stage is cached publishes none and starts no worker; a build of eight
 * stages starts eight of 32, not all 32 at once on its first task (on 2 cores their JIT-cold starts held the first
 * stages back by ~0.7 s); every published task still has a worker started for it. When an on-demand start fails (no
 * runc, no slirp4netns), the builds waiting for workers fail with the reason, as a farm that could not start did; so
 * does every later build that publishes a task: none waits for workers that will not come.
 */
final class EmbeddedWorkers implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EmbeddedWorkers.class);

  private final int count;
  private final IntFunction<CompletableFuture<AutoCloseable>> starter;
  private CoordinatorNode coordinator; // guarded by this
  private final List<CompletableFuture<AutoCloseable>> starting = new ArrayList<>(); // guarded by this
  private String failure; // guarded by this
  private boolean closed; // guarded by this

  /**
   * @param count how many workers the farm has
   * @param starter starts worker {@code i} (1 to {@code count}) in the background and returns its start
   */
  EmbeddedWorkers(int count, IntFunction<CompletableFuture<AutoCloseable>> starter) {
    this.count = count;
    this.starter = starter;
  }

  /** Starts the workers not started yet, now, in the background; {@link #awaitStarted} waits for them. */
  synchronized EmbeddedWorkers startNow() {
    while (starting.size() < count) {
      starting.add(starter.apply(starting.size() + 1));
    }
    return this;
  }

  /** Waits for the starts begun so far; throws the first failure. */
  void awaitStarted() throws Exception {
    List<CompletableFuture<AutoCloseable>> starts;
    synchronized (this) {
      starts = List.copyOf(starting);
    }
    StartedWorkers.join(starts).throwFailure();
  }

  /** The coordinator whose builds fail when an on-demand start fails. */
  synchronized void failBuildsOf(CoordinatorNode node) {
    coordinator = node;
  }

  /** A task was published: one more worker starts, while there are more; after a failed start, the builds fail again. */
  void taskPublished() {
    String failed;
    CompletableFuture<AutoCloseable> start = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      failed = failure;
      if (failed == null && starting.size() < count) {
        if (starting.isEmpty()) {
          log.debug("first task published: starting workers, one per task, up to {}", count);
        }
        start = starter.apply(starting.size() + 1);
        starting.add(start);
      }
    }
    if (failed != null) {
      failBuilds(failed);
    } else if (start != null) {
      start.whenComplete((done, error) -> startEnded(error));
    }
  }

  private void startEnded(Throwable error) {
    if (error == null) {
      return;
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String reason = "starting the embedded farm's workers failed: " + cause.getMessage();
    synchronized (this) {
      if (failure != null) {
        return; // the first failed start failed the builds already
      }
      failure = reason;
    }
    log.error(reason);
    failBuilds(reason);
  }

  private void failBuilds(String reason) {
    CoordinatorNode node;
    synchronized (this) {
      node = coordinator;
    }
    if (node != null) {
      // off the publisher's thread, which is the coordinator's own
      Thread.ofVirtual().name("stagefarm-workers-failed").start(() -> node.coordinator().failUnfinishedBuilds(reason));
    }
  }

  /** Stops the workers that started (in parallel, after the starts under way); none was started: nothing. */
  @Override
  public void close() throws Exception {
    List<CompletableFuture<AutoCloseable>> started;
    synchronized (this) {
      closed = true;
      started = List.copyOf(starting);
    }
    StartedWorkers.join(started).close();
  }
}
