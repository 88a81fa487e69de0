package dev.stagefarm.coordinator.schedule;

/** An immutable view of one stage's state, for progress reporting and build records. */
public record StageSnapshot(
    String buildId,
    String stageId,
    String name,
    StageState state,
    int attempt,
    String workerId,
    long startedMs,
    long finishedMs) {}
