package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.coordinator.content.StageResult;
import java.util.Map;

/** What the scheduler tells the rest of the coordinator. Called with the scheduler's lock held. */
public interface SchedulerListener {
  void stageChanged(StageSnapshot stage);

  /** Every stage of the build succeeded; the results are by stage id. */
  void buildStagesDone(String buildId, Map<String, StageResult> results);

  /** The build failed (a stage failed, or attempts ran out); its other stages are cancelled. */
  void buildFailed(String buildId, String error);

  /**
   * The build failed because of the farm, not its Dockerfile: a stage's runs were lost (dead
   * workers, leases that ran out, retriable faults) until its attempts ran out, no worker took it,
   * or a deadline passed without the worker reporting it. The client exits 3 instead of 1.
   */
  default void buildFailedByFarm(String buildId, String error) {
    buildFailed(buildId, error);
  }

  /** A worker started the stage {@code waitedMs} after its task was published (the dispatch latency). */
  default void stageStarted(StageSnapshot stage, long waitedMs) {}

  /**
   * A worker started a stage of {@code tenant}'s build {@code waitedMs} after it became ready (held
   * in the coordinator's fair queue and then on the task topic): the queue wait per tenant.
   */
  default void tenantStageStarted(String tenant, long waitedMs) {}

  /**
   * A worker reported the end of a run of the stage after {@code ranMs}: {@code succeeded} for a
   * result, false for a failure (retriable or not).
   */
  default void stageRan(StageSnapshot stage, long ranMs, boolean succeeded) {}

  SchedulerListener NONE =
      new SchedulerListener() {
        @Override
        public void stageChanged(StageSnapshot stage) {}

        @Override
        public void buildStagesDone(String buildId, Map<String, StageResult> results) {}

        @Override
        public void buildFailed(String buildId, String error) {}
      };
}
