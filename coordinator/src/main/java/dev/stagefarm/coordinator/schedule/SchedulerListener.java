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
