package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.content.StageResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the scheduler reports for metrics: stage counts, dispatch latency, run durations. */
class SchedulerMeteringTest {
  record Started(String stageId, long waitedMs) {}

  record Ran(String stageId, long ranMs, boolean succeeded) {}

  final ManualClock clock = new ManualClock();
  final List<Started> started = new ArrayList<>();
  final List<Ran> ran = new ArrayList<>();
  final List<String> changed = new ArrayList<>();
  final Scheduler scheduler = new Scheduler(clock, new Scheduler.Settings(Duration.ofSeconds(10), 3), (b, s, a, in) -> {},
      new SchedulerListener() {
        @Override
        public void stageChanged(StageSnapshot stage) {
          changed.add(stage.stageId() + " " + stage.state() + " " + stage.workerId() + " " + stage.startedMs());
        }

        @Override
        public void buildStagesDone(String buildId, Map<String, StageResult> results) {}

        @Override
        public void buildFailed(String buildId, String error) {}

        @Override
        public void stageStarted(StageSnapshot stage, long waitedMs) {
          started.add(new Started(stage.stageId(), waitedMs));
        }

        @Override
        public void stageRan(StageSnapshot stage, long ranMs, boolean succeeded) {
          ran.add(new Ran(stage.stageId(), ranMs, succeeded));
        }
      });

  static StageResult result() {
    return new StageResult(List.of(), new byte[0], "test");
  }

  @Test
  void countsQueuedStagesUntilAWorkerStartsThemAndRunningUntilTheyEnd() {
    scheduler.submit("b", List.of(StageSpec.of("x", List.of(), "", 1), StageSpec.of("y", List.of(), "", 1),
        StageSpec.of("z", List.of("x", "y"), "", 1)));
    assertThat(scheduler.stageCounts()).isEqualTo(new Scheduler.StageCounts(2, 0));

    scheduler.onStarted("b", "x", 1, "w1");
    assertThat(scheduler.stageCounts()).isEqualTo(new Scheduler.StageCounts(1, 1));

    scheduler.onCompleted("b", "x", 1, result());
    scheduler.onStarted("b", "y", 1, "w1");
    scheduler.onCompleted("b", "y", 1, result());
    assertThat(scheduler.stageCounts()).as("z is ready now").isEqualTo(new Scheduler.StageCounts(1, 0));

    scheduler.onStarted("b", "z", 1, "w1");
    scheduler.onCompleted("b", "z", 1, result());
    assertThat(scheduler.stageCounts()).isEqualTo(new Scheduler.StageCounts(0, 0));
  }

  @Test
  void aFollowerOfAnIdenticalStageIsNotQueuedWork() {
    scheduler.submit("first", List.of(StageSpec.of("s", List.of(), "chain-1", 1)));
    scheduler.submit("second", List.of(StageSpec.of("s", List.of(), "chain-1", 1)));

    assertThat(scheduler.stageCounts()).as("one task is out; the second build waits for its result")
        .isEqualTo(new Scheduler.StageCounts(1, 0));
  }

  @Test
  void stagesOfACancelledBuildNoLongerCount() {
    scheduler.submit("b", List.of(StageSpec.of("x", List.of(), "", 1), StageSpec.of("y", List.of(), "", 1)));
    scheduler.onStarted("b", "x", 1, "w1");

    scheduler.cancel("b");

    assertThat(scheduler.stageCounts()).isEqualTo(new Scheduler.StageCounts(0, 0));
  }

  @Test
  void reportsTheWaitFromPublishingToStartAndEachRunsDuration() {
    scheduler.submit("b", List.of(StageSpec.of("x", List.of(), "", 1)));
    clock.advance(Duration.ofMillis(1500));
    scheduler.onStarted("b", "x", 1, "w1");
    clock.advance(Duration.ofSeconds(2));
    scheduler.onHeartbeat("b", "x", 1, "w1");
    clock.advance(Duration.ofSeconds(3));
    scheduler.onCompleted("b", "x", 1, result());

    assertThat(started).containsExactly(new Started("x", 1500));
    assertThat(ran).containsExactly(new Ran("x", 5000, true));
  }

  @Test
  void aRetriedStageReportsAFailedRunAndTheWaitOfItsNextAttempt() {
    scheduler.submit("b", List.of(StageSpec.of("x", List.of(), "", 1)));
    scheduler.onStarted("b", "x", 1, "w1");
    clock.advance(Duration.ofSeconds(4));
    scheduler.onFailed("b", "x", 1, new StageFailure("disk full", true));
    clock.advance(Duration.ofMillis(700));
    scheduler.onStarted("b", "x", 2, "w2");

    assertThat(ran).containsExactly(new Ran("x", 4000, false));
    assertThat(started).containsExactly(new Started("x", 0), new Started("x", 700));
  }

  @Test
  void aCompletionThatComesAloneCountsItsStartAndRunAndGoesFromQueuedToDone() {
    // a worker publishes no started for a stage that ends within its start delay (docs/protocol.md)
    scheduler.submit("b", List.of(StageSpec.of("x", List.of(), "", 1), StageSpec.of("y", List.of("x"), "", 1)));
    long dispatchedMs = clock.millis();
    clock.advance(Duration.ofMillis(1500));
    changed.clear();

    assertThat(scheduler.onCompletedUnannounced("b", "x", 1, "w1", 1, 30, result())).isTrue();

    assertThat(started).as("the queue wait ends when the run began").containsExactly(new Started("x", 1470));
    assertThat(ran).containsExactly(new Ran("x", 30, true));
    assertThat(changed).as("no RUNNING status; the DONE one names the worker and when it started")
        .filteredOn(c -> c.startsWith("x ")).containsExactly("x DONE w1 " + (dispatchedMs + 1470));
    assertThat(scheduler.stageCounts()).as("y is ready now").isEqualTo(new Scheduler.StageCounts(1, 0));
    assertThat(scheduler.onCompletedUnannounced("b", "x", 1, "w1", 1, 30, result())).as("a repeat is stale").isFalse();
    assertThat(scheduler.onCompletedUnannounced("b", "y", 2, "w1", 1, 30, result())).as("another attempt's")
        .isFalse();
  }

  @Test
  void aCompletionThatComesAloneForAStageSeenRunningIsAPlainCompletion() {
    // e.g. the attempt's earlier delivery was announced on another worker, which died
    scheduler.submit("b", List.of(StageSpec.of("x", List.of(), "", 1)));
    scheduler.onStarted("b", "x", 1, "w1");
    clock.advance(Duration.ofSeconds(4));

    assertThat(scheduler.onCompletedUnannounced("b", "x", 1, "w2", 2, 20, result())).isTrue();

    assertThat(started).containsExactly(new Started("x", 0));
    assertThat(ran).containsExactly(new Ran("x", 4000, true));
  }
}
