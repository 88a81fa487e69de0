package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.content.StageResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SchedulerTest {

  record Dispatch(String buildId, String stageId, int attempt, Map<String, StageResult> inputs) {}

  final ManualClock clock = new ManualClock();
  final List<Dispatch> dispatched = new ArrayList<>();
  final Map<String, Map<String, StageResult>> doneBuilds = new LinkedHashMap<>();
  final Map<String, String> failedBuilds = new LinkedHashMap<>();
  /** The builds of failedBuilds that the farm failed (exit code 3 at the client). */
  final java.util.Set<String> failedByFarm = new java.util.HashSet<>();
  final Scheduler scheduler =
      new Scheduler(
          clock,
          new Scheduler.Settings(Duration.ofSeconds(10), 3),
          (b, s, a, in) -> dispatched.add(new Dispatch(b, s, a, in)),
          listener());

  SchedulerListener listener() {
    return new SchedulerListener() {
            @Override
            public void stageChanged(StageSnapshot stage) {}

            @Override
            public void buildStagesDone(String buildId, Map<String, StageResult> results) {
              doneBuilds.put(buildId, results);
            }

            @Override
            public void buildFailed(String buildId, String error) {
              failedBuilds.put(buildId, error);
            }

            @Override
            public void buildFailedByFarm(String buildId, String error) {
              failedByFarm.add(buildId);
              buildFailed(buildId, error);
            }
          };
  }

  static StageResult result(String origin) {
    return new StageResult(List.of(), new byte[0], origin);
  }

  List<String> dispatchedStages() {
    return dispatched.stream().map(d -> d.buildId() + "/" + d.stageId() + "#" + d.attempt()).toList();
  }

  StageState state(String buildId, String stageId) {
    return scheduler.snapshot(buildId).stream()
        .filter(s -> s.stageId().equals(stageId))
        .findFirst()
        .orElseThrow()
        .state();
  }

  @Test
  void dispatchesReadyStagesCriticalPathFirstAndUnblocksDependents() {
    // short ─┐
    // long1 → long2 → target
    scheduler.submit(
        "b",
        List.of(
            StageSpec.of("short", List.of(), "", 1),
            StageSpec.of("long1", List.of(), "", 1),
            StageSpec.of("long2", List.of("long1"), "", 5),
            StageSpec.of("target", List.of("short", "long2"), "", 1)));

    assertThat(dispatchedStages()).containsExactly("b/long1#1", "b/short#1");
    assertThat(state("b", "long2")).isEqualTo(StageState.WAITING);

    scheduler.onStarted("b", "long1", 1, "w1");
    assertThat(state("b", "long1")).isEqualTo(StageState.RUNNING);
    scheduler.onCompleted("b", "long1", 1, result("l1"));
    assertThat(dispatchedStages()).containsExactly("b/long1#1", "b/short#1", "b/long2#1");
    assertThat(dispatched.get(2).inputs()).containsEntry("long1", result("l1"));

    scheduler.onCompleted("b", "long2", 1, result("l2"));
    assertThat(dispatched).hasSize(3); // target still waits for "short"
    scheduler.onCompleted("b", "short", 1, result("s"));
    assertThat(dispatchedStages()).endsWith("b/target#1");
    assertThat(dispatched.get(3).inputs()).containsOnlyKeys("short", "long2");

    assertThat(doneBuilds).doesNotContainKey("b");
    scheduler.onCompleted("b", "target", 1, result("t"));
    assertThat(doneBuilds.get("b")).containsEntry("target", result("t")).hasSize(4);
  }

  @Test
  void stagesWithCachedResultsCompleteWithoutDispatch() {
    scheduler.submit(
        "b",
        List.of(
            new StageSpec("a", "a", List.of(), "k1", 1, Optional.of(result("cached-a"))),
            StageSpec.of("b", List.of("a"), "", 1)));

    assertThat(state("b", "a")).isEqualTo(StageState.CACHED);
    assertThat(dispatchedStages()).containsExactly("b/b#1");
    assertThat(dispatched.get(0).inputs()).containsEntry("a", result("cached-a"));
  }

  @Test
  void fullyCachedBuildIsDoneAtOnce() {
    scheduler.submit(
        "b", List.of(new StageSpec("a", "a", List.of(), "k1", 1, Optional.of(result("x")))));
    assertThat(dispatched).isEmpty();
    assertThat(doneBuilds).containsKey("b");
  }

  @Test
  void expiredLeaseRepublishesWithNextAttemptAndIgnoresTheStaleAttempt() {
    scheduler.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    scheduler.onStarted("b", "s", 1, "w1");

    clock.advance(Duration.ofSeconds(5));
    scheduler.onHeartbeat("b", "s", 1, "w1");
    clock.advance(Duration.ofSeconds(9));
    scheduler.checkLeases();
    assertThat(dispatchedStages()).containsExactly("b/s#1"); // heartbeat renewed the lease

    clock.advance(Duration.ofSeconds(2));
    scheduler.checkLeases();
    assertThat(dispatchedStages()).containsExactly("b/s#1", "b/s#2");
    assertThat(state("b", "s")).isEqualTo(StageState.QUEUED);

    // the lost worker comes back: its result belongs to attempt 1 and is ignored
    assertThat(scheduler.onCompleted("b", "s", 1, result("stale"))).isFalse();
    assertThat(doneBuilds).isEmpty();

    assertThat(scheduler.onCompleted("b", "s", 2, result("fresh"))).isTrue();
    assertThat(doneBuilds.get("b")).containsEntry("s", result("fresh"));
  }

  @Test
  void queuedStageWaitsForAWorkerWithinTheQueueLease() {
    scheduler.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    clock.advance(Scheduler.Settings.DEFAULT_QUEUE_LEASE);
    scheduler.checkLeases();
    assertThat(dispatched).hasSize(1); // a busy farm is not a dead worker: the lease is long
  }

  @Test
  void aTaskNobodyTakesIsPublishedAgainThenFailsTheBuildNamingTheQueueLease() {
    Scheduler leased = new Scheduler(clock,
        new Scheduler.Settings(Duration.ofSeconds(10), 2).withQueueLease(Duration.ofSeconds(30)),
        (b, s, a, in) -> dispatched.add(new Dispatch(b, s, a, in)), listener());
    leased.submit("b", List.of(new StageSpec("0-app", "app", List.of(), "", 1, Optional.empty())));
    clock.advance(Duration.ofSeconds(31));
    leased.checkLeases();
    assertThat(dispatchedStages()).containsExactly("b/0-app#1", "b/0-app#2");
    assertThat(failedBuilds).isEmpty();

    clock.advance(Duration.ofSeconds(31));
    leased.checkLeases();
    assertThat(dispatched).hasSize(2);
    assertThat(failedBuilds.get("b")).startsWith("no worker took stage app within 30s (2 attempts;")
        .contains("queue-lease");
  }

  @Test
  void runsLostToRedeliveryCountAgainstTheAttemptsSoAPoisonStageFailsItsBuild() {
    scheduler.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    scheduler.onStarted("b", "s", 1, "w1", 1);
    // each worker dies in the stage; Kafka hands the same attempt to the next one
    assertThat(scheduler.onStarted("b", "s", 1, "w2", 2)).isTrue();
    assertThat(scheduler.onStarted("b", "s", 1, "w3", 3)).isTrue();
    assertThat(failedBuilds).isEmpty();
    scheduler.onHeartbeat("b", "s", 1, "w3"); // a heartbeat of the same run is no redelivery
    assertThat(failedBuilds).isEmpty();

    assertThat(scheduler.onStarted("b", "s", 1, "w4", 4)).isFalse();
    assertThat(failedBuilds.get("b")).isEqualTo("stage s failed on 3 workers"
        + " (last error: worker w3 stopped without reporting (the task was delivered again))");
    assertThat(dispatched).hasSize(1); // no new attempts: the redeliveries were the retries
  }

  @Test
  void deadWorkersAnUntakenTaskAndADeadlineAreTheFarmsFailuresAndAFailingRunIsTheBuilds() {
    Scheduler leased = new Scheduler(clock,
        new Scheduler.Settings(Duration.ofSeconds(10), 1).withQueueLease(Duration.ofSeconds(30))
            .withDeadlines(Duration.ofHours(1), Duration.ofMinutes(2)),
        (b, s, a, in) -> dispatched.add(new Dispatch(b, s, a, in)), listener());
    leased.submit("dead", List.of(StageSpec.of("s", List.of(), "", 1)));
    leased.onStarted("dead", "s", 1, "w1");
    leased.submit("untaken", List.of(StageSpec.of("s", List.of(), "", 1)));
    leased.submit("user", List.of(StageSpec.of("s", List.of(), "", 1)));
    leased.onStarted("user", "s", 1, "w1");
    leased.onFailed("user", "s", 1, new StageFailure("RUN false: exit code 1", false));
    clock.advance(Duration.ofSeconds(31)); // no heartbeat from w1; nobody took "untaken"
    leased.checkLeases();
    leased.submit("late", List.of(StageSpec.of("s", List.of(), "", 1)));
    leased.onStarted("late", "s", 1, "w2");
    for (int i = 0; i < 14; i++) {
      clock.advance(Duration.ofSeconds(9));
      leased.onHeartbeat("late", "s", 1, "w2");
      leased.checkLeases();
    }

    assertThat(failedBuilds).containsOnlyKeys("dead", "untaken", "user", "late");
    assertThat(failedByFarm).containsExactlyInAnyOrder("dead", "untaken", "late");
  }

  @Test
  void aRedeliveredRunThatCompletesIsTheStagesResult() {
    scheduler.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    scheduler.onStarted("b", "s", 1, "w1", 1);
    scheduler.onStarted("b", "s", 1, "w2", 2);
    assertThat(scheduler.onCompleted("b", "s", 1, result("second-run"))).isTrue();
    assertThat(doneBuilds.get("b")).containsEntry("s", result("second-run"));
  }

  @Test
  void lateOutputOfTheWorkerThatLostTheTaskDoesNotNameItAsTheStagesWorkerAgain() {
    scheduler.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    scheduler.onStarted("b", "s", 1, "w1", 1);
    scheduler.onStarted("b", "s", 1, "w2", 2);
    assertThat(scheduler.onHeartbeat("b", "s", 1, "w1")).isTrue();
    assertThat(scheduler.snapshot("b")).singleElement().extracting(StageSnapshot::workerId).isEqualTo("w2");
    assertThat(scheduler.onHeartbeat("b", "s", 1, "w2")).isTrue();
    assertThat(scheduler.snapshot("b")).singleElement().extracting(StageSnapshot::workerId).isEqualTo("w2");
  }

  @Test
  void aBuildPastItsDeadlineFailsWithoutAnyWorkerReport() {
    Scheduler limited = new Scheduler(clock,
        new Scheduler.Settings(Duration.ofSeconds(10), 3).withDeadlines(Duration.ofHours(1), Duration.ofMinutes(2)),
        (b, s, a, in) -> dispatched.add(new Dispatch(b, s, a, in)), listener());
    limited.submit("b", List.of(StageSpec.of("s", List.of(), "", 1), StageSpec.of("t", List.of("s"), "", 1)));
    limited.onStarted("b", "s", 1, "w1");
    for (int i = 0; i < 14; i++) { // the worker heartbeats all along
      clock.advance(Duration.ofSeconds(9));
      limited.onHeartbeat("b", "s", 1, "w1");
      limited.checkLeases();
    }
    assertThat(failedBuilds.get("b")).isEqualTo("the build ran past its deadline of 2m (coordinator setting build-deadline)");
    assertThat(limited.snapshot("b")).extracting(StageSnapshot::state)
        .containsExactly(StageState.FAILED, StageState.CANCELLED);
  }

  @Test
  void aStageRunningPastItsDeadlineWhoseWorkerDoesNotReportFailsTheBuild() {
    Scheduler limited = new Scheduler(clock,
        new Scheduler.Settings(Duration.ofSeconds(10), 3).withDeadlines(Duration.ofMinutes(1), Duration.ofHours(3)),
        (b, s, a, in) -> dispatched.add(new Dispatch(b, s, a, in)), listener());
    limited.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    limited.onStarted("b", "s", 1, "w1");
    for (int i = 0; i < 8; i++) { // heartbeats keep coming, the stage does not end
      clock.advance(Duration.ofSeconds(9));
      limited.onHeartbeat("b", "s", 1, "w1");
      limited.checkLeases();
    }
    assertThat(failedBuilds.get("b")).isEqualTo("stage s ran past its deadline of 1m (coordinator setting"
        + " stage-deadline) on worker w1, which did not report it");
  }

  @Test
  void aTaskThatCannotBePublishedFailsTheBuildWithTheReason() {
    scheduler.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    assertThat(scheduler.onPublishFailed("b", "s", 2, "stale attempt")).isFalse();
    assertThat(scheduler.onPublishFailed("b", "s", 1, "stage s could not be handed to the workers: too large")).isTrue();
    assertThat(failedBuilds.get("b")).isEqualTo("stage s could not be handed to the workers: too large");
  }

  @Test
  void givesUpAfterBoundedAttemptsWithAClearError() {
    scheduler.submit(
        "b", List.of(new StageSpec("1-build", "build", List.of(), "", 1, Optional.empty())));
    for (int attempt = 1; attempt <= 3; attempt++) {
      scheduler.onStarted("b", "1-build", attempt, "w" + attempt);
      clock.advance(Duration.ofSeconds(11));
      scheduler.checkLeases();
    }
    assertThat(dispatched).hasSize(3);
    assertThat(failedBuilds.get("b"))
        .isEqualTo("stage build failed on 3 workers (last error: no heartbeat from worker w3 for 11s)");
    assertThat(state("b", "1-build")).isEqualTo(StageState.FAILED);
  }

  @Test
  void poisonMessageSaysWhenEveryAttemptLandedOnTheSameWorker() {
    scheduler.submit("b", List.of(StageSpec.of("s", List.of(), "", 1)));
    for (int attempt = 1; attempt <= 3; attempt++) {
      scheduler.onStarted("b", "s", attempt, "w1");
      scheduler.onFailed("b", "s", attempt, new StageFailure("mount failed", true));
    }
    assertThat(failedBuilds.get("b")).isEqualTo("stage s failed 3 times on 1 worker (last error: mount failed)");
  }

  @Test
  void aFailureByTheFarmIsNotRetriedAndFailsTheBuildAsTheFarms() {
    scheduler.submit("b", List.of(StageSpec.of("x", List.of(), "", 1), StageSpec.of("y", List.of("x"), "", 1)));
    scheduler.onStarted("b", "x", 1, "w1");
    scheduler.onFailed("b", "x", 1, new StageFailure("stage x ran past its deadline", false, true));

    assertThat(dispatchedStages()).containsExactly("b/x#1");
    assertThat(failedBuilds).containsEntry("b", "stage x ran past its deadline");
    assertThat(failedByFarm).containsExactly("b");
    assertThat(state("b", "y")).isEqualTo(StageState.CANCELLED);
  }

  @Test
  void retriableFailureIsRetriedButDeterministicFailureFailsTheBuildAndCancelsTheRest() {
    scheduler.submit(
        "b",
        List.of(
            StageSpec.of("x", List.of(), "", 1),
            StageSpec.of("y", List.of(), "", 1),
            StageSpec.of("z", List.of("x", "y"), "", 1)));
    scheduler.onFailed("b", "x", 1, new StageFailure("s3 timeout", true));
    assertThat(dispatchedStages()).contains("b/x#2");
    assertThat(failedBuilds).isEmpty();

    scheduler.onFailed(
        "b", "y", 1, new StageFailure("Dockerfile:3: RUN false: exit code 1", false));
    assertThat(failedBuilds.get("b")).isEqualTo("Dockerfile:3: RUN false: exit code 1");
    assertThat(state("b", "y")).isEqualTo(StageState.FAILED);
    assertThat(state("b", "x")).isEqualTo(StageState.CANCELLED);
    assertThat(state("b", "z")).isEqualTo(StageState.CANCELLED);
    // later events of the cancelled build change nothing
    assertThat(scheduler.onCompleted("b", "x", 2, result("late"))).isFalse();
    assertThat(doneBuilds).isEmpty();
  }

  @Test
  void twoBuildsWithTheSameChainKeyRunTheStageOnce() {
    scheduler.submit("b1", List.of(StageSpec.of("s", List.of(), "key-1", 1)));
    scheduler.submit(
        "b2",
        List.of(StageSpec.of("s", List.of(), "key-1", 1), StageSpec.of("t", List.of("s"), "", 1)));

    assertThat(dispatchedStages()).containsExactly("b1/s#1");
    assertThat(state("b2", "s")).isEqualTo(StageState.QUEUED);
    // events naming the follower are not its own attempt: ignored
    assertThat(scheduler.onStarted("b2", "s", 1, "w9")).isFalse();

    scheduler.onCompleted("b1", "s", 1, result("shared"));
    assertThat(state("b2", "s")).isEqualTo(StageState.CACHED);
    assertThat(dispatchedStages()).containsExactly("b1/s#1", "b2/t#1");
    assertThat(dispatched.get(1).inputs()).containsEntry("s", result("shared"));
  }

  @Test
  void followerTakesOverWhenTheLeadingBuildIsCancelled() {
    scheduler.submit("b1", List.of(StageSpec.of("s", List.of(), "key-1", 1)));
    scheduler.submit("b2", List.of(StageSpec.of("s", List.of(), "key-1", 1)));
    scheduler.cancel("b1");

    assertThat(dispatchedStages()).containsExactly("b1/s#1", "b2/s#1");
    scheduler.onCompleted("b2", "s", 1, result("own"));
    assertThat(doneBuilds).containsOnlyKeys("b2");
  }

  @Test
  void followersFailWithTheLeader() {
    scheduler.submit("b1", List.of(StageSpec.of("s", List.of(), "key-1", 1)));
    scheduler.submit("b2", List.of(StageSpec.of("s", List.of(), "key-1", 1)));
    scheduler.onFailed("b1", "s", 1, new StageFailure("exit code 2", false));
    assertThat(failedBuilds).containsEntry("b1", "exit code 2").containsEntry("b2", "exit code 2");
  }

  @Test
  void resumeKeepsRecordedResultsAndRedispatchesRunningStagesWithTheNextAttempt() {
    scheduler.resume(
        "b",
        List.of(
            StageSpec.of("a", List.of(), "", 1),
            StageSpec.of("b", List.of(), "", 1),
            StageSpec.of("c", List.of("a", "b"), "", 1)),
        Map.of(
            "a", new Scheduler.RecordedStage(StageState.DONE, 1, Optional.of(result("a"))),
            "b", new Scheduler.RecordedStage(StageState.RUNNING, 2, Optional.empty())));

    assertThat(state("b", "a")).isEqualTo(StageState.DONE);
    assertThat(dispatchedStages()).containsExactly("b/b#3");
  }

  @Test
  void rejectsCyclesAndUnknownDependencies() {
    assertThatThrownBy(
            () ->
                scheduler.submit(
                    "c",
                    List.of(StageSpec.of("a", List.of("b"), "", 1), StageSpec.of("b", List.of("a"), "", 1))))
        .hasMessageContaining("cycle");
    assertThatThrownBy(() -> scheduler.submit("d", List.of(StageSpec.of("a", List.of("zz"), "", 1))))
        .hasMessageContaining("unknown stage zz");
  }
}
