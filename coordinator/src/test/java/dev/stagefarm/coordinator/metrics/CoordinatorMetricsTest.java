package dev.stagefarm.coordinator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.StageState;
import dev.stagefarm.proto.v1.BuildState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CoordinatorMetricsTest {
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final AtomicReference<CoordinatorMetrics.Source> source = new AtomicReference<>(CoordinatorMetrics.Source.STANDBY);
  final CoordinatorMetrics metrics = new CoordinatorMetrics(registry, source::get);

  static CoordinatorMetrics.Source active(int queued, int running, Map<BuildState, Integer> builds) {
    return new CoordinatorMetrics.Source() {
      @Override
      public boolean active() {
        return true;
      }

      @Override
      public Scheduler.StageCounts stageCounts() {
        return new Scheduler.StageCounts(queued, running);
      }

      @Override
      public Map<BuildState, Integer> unfinishedBuilds() {
        return builds;
      }
    };
  }

  double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  @Test
  void gaugesReadTheActiveCoordinatorAtEachScrapeAndAreZeroOnAStandby() {
    assertThat(gauge(CoordinatorMetrics.STAGES_QUEUED)).isZero();
    assertThat(gauge(CoordinatorMetrics.COORDINATOR_ACTIVE)).isZero();

    source.set(active(7, 2, Map.of(BuildState.RUNNING, 3)));
    assertThat(gauge(CoordinatorMetrics.STAGES_QUEUED)).isEqualTo(7);
    assertThat(gauge(CoordinatorMetrics.STAGES_RUNNING)).isEqualTo(2);
    assertThat(gauge(CoordinatorMetrics.COORDINATOR_ACTIVE)).isEqualTo(1);
    assertThat(gauge(CoordinatorMetrics.BUILDS, "state", "running")).isEqualTo(3);
    assertThat(gauge(CoordinatorMetrics.BUILDS, "state", "queued")).isZero();

    source.set(CoordinatorMetrics.Source.STANDBY); // deposed
    assertThat(gauge(CoordinatorMetrics.STAGES_QUEUED)).isZero();
  }

  @Test
  void countsEndedStagesAndBuildsByStateAndTimesDispatchAndRuns() {
    metrics.stageFinished(StageState.DONE);
    metrics.stageFinished(StageState.CACHED);
    metrics.stageFinished(StageState.CACHED);
    metrics.stageFinished(StageState.RUNNING); // not an end: ignored
    metrics.buildFinished(BuildState.SUCCEEDED);
    metrics.buildFinished(BuildState.RUNNING); // not an end: ignored
    metrics.stageStarted(1500);
    metrics.stageRan(4000, true);
    metrics.stageRan(1000, false);

    assertThat(registry.get(CoordinatorMetrics.STAGES_FINISHED).tag("state", "cached").counter().count()).isEqualTo(2);
    assertThat(registry.get(CoordinatorMetrics.STAGES_FINISHED).tag("state", "done").counter().count()).isEqualTo(1);
    assertThat(registry.get(CoordinatorMetrics.BUILDS_FINISHED).tag("state", "succeeded").counter().count()).isEqualTo(1);
    assertThat(registry.find(CoordinatorMetrics.BUILDS_FINISHED).tag("state", "running").counter()).isNull();
    var dispatch = registry.get(CoordinatorMetrics.STAGE_DISPATCH).timer();
    assertThat(dispatch.count()).isEqualTo(1);
    assertThat(dispatch.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(1500);
    assertThat(registry.get(CoordinatorMetrics.STAGE_RUN).tag("outcome", "succeeded").timer().totalTime(TimeUnit.SECONDS))
        .isEqualTo(4);
    assertThat(registry.get(CoordinatorMetrics.STAGE_RUN).tag("outcome", "failed").timer().count()).isEqualTo(1);
  }

  @Test
  void noMeterCarriesAnUnboundedTag() {
    registry.getMeters().forEach(meter -> meter.getId().getTags().forEach(tag ->
        assertThat(tag.getKey()).as(meter.getId().getName()).isIn("state", "outcome", "le"))); // le: the fixed SLO buckets
  }
}
