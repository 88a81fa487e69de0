package dev.stagefarm.coordinator.port;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A task queue that keeps what was published, in order. */
public final class InMemoryTaskQueue implements TaskQueue {
  private final List<StageJob> published = new CopyOnWriteArrayList<>();

  @Override
  public CompletableFuture<Void> publish(StageJob job) {
    published.add(job);
    return CompletableFuture.completedFuture(null);
  }

  /** Everything published so far (live: later publishes show up). */
  public List<StageJob> published() {
    return published;
  }

  @Override
  public void close() {}
}
