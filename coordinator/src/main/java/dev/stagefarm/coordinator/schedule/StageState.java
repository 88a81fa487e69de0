package dev.stagefarm.coordinator.schedule;

/** Where one stage of one build is in its life. */
public enum StageState {
  /** Some stage it depends on is not finished yet. */
  WAITING,
  /** Published to the task topic (or waiting on another build's identical stage). */
  QUEUED,
  /** A worker reported it started and heartbeats it. */
  RUNNING,
  /** A worker finished it. */
  DONE,
  /** Completed from cache records (or by another build's identical stage): no worker ran it here. */
  CACHED,
  FAILED,
  CANCELLED;

  public boolean finished() {
    return this == DONE || this == CACHED || this == FAILED || this == CANCELLED;
  }

  public boolean succeeded() {
    return this == DONE || this == CACHED;
  }
}
