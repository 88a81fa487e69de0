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
