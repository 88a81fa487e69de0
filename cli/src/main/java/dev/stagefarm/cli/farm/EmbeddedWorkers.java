package dev.stagefarm.cli.farm;

import dev.stagefarm.coordinator.CoordinatorNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * An embedded farm's workers, started with the farm ({@link #startNow}: the local farm, {@code stagefarm up}) or
 * when the first task is published on its bus ({@link #taskPublished}: the one-shot farm, bench/README.md "Session
 * 10"): a build whose every stage is cached publishes none and starts no worker, and a cold build's workers start
 * while its other stages are still being planned. When an on-demand start fails (no runc, no slirp4netns), the
 * builds waiting for them fail with the reason, as a farm that could not start did; so does every later build that
 * publishes a task: none waits for workers that will not come.
 */
final class EmbeddedWorkers implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EmbeddedWorkers.class);

  private final Supplier<List<CompletableFuture<AutoCloseable>>> starter;
  private CoordinatorNode coordinator; // guarded by this
  private List<CompletableFuture<AutoCloseable>> starting; // guarded by this
  private String failure; // guarded by this
  private boolean closed; // guarded by this

  /** @param starter starts the workers (in parallel, in the background) and returns their starts */
  EmbeddedWorkers(Supplier<List<CompletableFuture<AutoCloseable>>> starter) {
    this.starter = starter;
  }

  /** Starts the workers now, in the background; {@link #awaitStarted} waits for them. */
  synchronized EmbeddedWorkers startNow() {
    if (starting == null) {
      starting = starter.get();
    }
    return this;
  }

  /** Waits for the starts begun by {@link #startNow}; throws the first failure. */
  void awaitStarted() throws Exception {
    List<CompletableFuture<AutoCloseable>> starts;
    synchronized (this) {
      starts = starting;
    }
    if (starts != null) {
      StartedWorkers.join(starts).throwFailure();
    }
  }

  /** The coordinator whose builds fail when an on-demand start fails. */
  synchronized void failBuildsOf(CoordinatorNode node) {
    coordinator = node;
  }

  /** A task was published: the first starts the workers; after a failed start, the builds fail again. */
  void taskPublished() {
    String failed;
    synchronized (this) {
      if (closed) {
        return;
      }
      if (starting == null) {
        log.debug("first task published: starting the workers");
        starting = starter.get();
        CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new))
            .whenComplete((done, error) -> startEnded(error));
        return;
      }
      failed = failure;
    }
    if (failed != null) {
      failBuilds(failed);
    }
  }

  private void startEnded(Throwable error) {
    if (error == null) {
      return;
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String reason = "starting the embedded farm's workers failed: " + cause.getMessage();
    synchronized (this) {
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
      started = starting;
    }
    if (started != null) {
      StartedWorkers.join(started).close();
    }
  }
}
