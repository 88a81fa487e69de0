package dev.stagefarm.cli.farm;

import dev.stagefarm.coordinator.CoordinatorNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * An embedded farm's workers, started with the farm ({@link #startNow}: the local farm, {@code stagefarm up}) or
 * on demand (the one-shot farm): the first few when a build is submitted ({@link #buildSubmitted}: they start while
 * it is planned), all of them when its first task is published ({@link #taskPublished}); a build whose every stage
 * is cached publishes none and starts only those few (bench/README.md, "Session 11": all of them at the submit cost
 * a cached build ~0.5 s of CPU). When an on-demand start fails (no runc, no slirp4netns), the builds waiting for
 * them fail with the reason, as a farm that could not start did; so does every later build that publishes a task:
 * none waits for workers that will not come.
 */
final class EmbeddedWorkers implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EmbeddedWorkers.class);

  /** Starts workers {@code first} .. {@code first + count - 1} (numbered from 1), in parallel, in the background. */
  @FunctionalInterface
  interface Starter {
    List<CompletableFuture<AutoCloseable>> start(int first, int count);
  }

  private final int count;
  private final int onSubmit;
  private final Starter starter;
  private CoordinatorNode coordinator; // guarded by this
  private final List<CompletableFuture<AutoCloseable>> starting = new ArrayList<>(); // guarded by this
  private String failure; // guarded by this
  private boolean closed; // guarded by this

  /**
   * @param count the farm's workers
   * @param onSubmit how many of them {@link #buildSubmitted} starts (at most {@code count})
   */
  EmbeddedWorkers(int count, int onSubmit, Starter starter) {
    this.count = count;
    this.onSubmit = Math.min(onSubmit, count);
    this.starter = starter;
  }

  /** Starts the workers now, in the background; {@link #awaitStarted} waits for them. */
  synchronized EmbeddedWorkers startNow() {
    startUpTo(count);
    return this;
  }

  /** Waits for the starts begun so far; throws the first failure. */
  void awaitStarted() throws Exception {
    StartedWorkers.join(starts()).throwFailure();
  }

  private synchronized List<CompletableFuture<AutoCloseable>> starts() {
    return List.copyOf(starting);
  }

  /** The coordinator whose builds fail when an on-demand start fails. */
  synchronized void failBuildsOf(CoordinatorNode node) {
    coordinator = node;
  }

  /** A build was submitted: the first few workers start (a failed start fails it when it publishes a task). */
  void buildSubmitted() {
    synchronized (this) {
      if (!closed && starting.size() < onSubmit) {
        log.debug("build submitted: starting {} of the workers", onSubmit - starting.size());
        watch(startUpTo(onSubmit));
      }
    }
  }

  /** A task was published: the workers not started yet start; after a failed start, the builds fail again. */
  void taskPublished() {
    String failed;
    synchronized (this) {
      if (closed) {
        return;
      }
      if (starting.size() < count && failure == null) {
        log.debug("task published: starting {} workers", count - starting.size());
        watch(startUpTo(count));
      }
      failed = failure;
    }
    if (failed != null) {
      failBuilds(failed);
    }
  }

  /** Starts workers up to {@code total} started; returns the new starts. Holds this. */
  private List<CompletableFuture<AutoCloseable>> startUpTo(int total) {
    if (starting.size() >= total) {
      return List.of();
    }
    List<CompletableFuture<AutoCloseable>> added = starter.start(starting.size() + 1, total - starting.size());
    starting.addAll(added);
    return added;
  }

  /** An on-demand start's failure fails the waiting builds ({@link #startEnded}). */
  private void watch(List<CompletableFuture<AutoCloseable>> starts) {
    CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).whenComplete((done, error) -> startEnded(error));
  }

  private void startEnded(Throwable error) {
    if (error == null) {
      return;
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String reason = "starting the embedded farm's workers failed: " + cause.getMessage();
    synchronized (this) {
      if (failure != null) {
        return; // the builds failed for the first reason already
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
    synchronized (this) {
      closed = true;
    }
    StartedWorkers.join(starts()).close();
  }
}
