package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.coordinator.content.StageResult;

/** The mutable state of one stage of one build; only the {@link Scheduler} touches it. */
final class StageRun {
  final String buildId;
  final StageSpec spec;
  /** Its position in the build's plan (a build record's stage order). */
  final int order;
  StageState state = StageState.WAITING;
  int attempt;
  String workerId = "";
  long lastSeenMs;
  long startedMs;
  /** When the current run (this attempt, or its latest redelivery) started, for the stage deadline. */
  long runStartedMs;
  /** The highest Kafka delivery count of the current attempt's task seen in a started event. */
  int delivery;
  /** Runs of any attempt lost to a redelivery (the worker died; Kafka handed the task out again). */
  int redeliveries;
  long finishedMs;
  StageResult result;
  String lastError = "";
  /** Every worker that started an attempt of this stage, for the poison-stage message. */
  final java.util.Set<String> workersTried = new java.util.LinkedHashSet<>();
  /** Waiting on another build's identical stage instead of running its own attempt. */
  boolean follower;
  /** Ready and held in the coordinator's {@link FairQueue}: not yet on the task topic. */
  boolean held;
  /** Released from the fair queue: it holds one of its tenant's in-flight slots until it ends. */
  boolean released;
  /** A resumed stage that was out before the restart: it goes out again at once, holding a slot. */
  boolean wasOut;
  /** When the stage became ready (for the queue wait), 0 once a worker started it. */
  long readyMs;

  StageRun(String buildId, StageSpec spec, int order) {
    this.buildId = buildId;
    this.spec = spec;
    this.order = order;
  }

  String id() {
    return spec.id();
  }

  StageSnapshot snapshot() {
    return new StageSnapshot(
        buildId, spec.id(), spec.name(), state, attempt, workerId, startedMs, finishedMs);
  }
}
