package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.coordinator.content.StageResult;
import java.util.Map;

/** Sends a ready stage to the workers (in production: a StageTask on the task topic). */
@FunctionalInterface
public interface TaskDispatcher {
  /**
   * @param inputs the results of the stages this one depends on, by stage id
   */
  void dispatch(String buildId, String stageId, int attempt, Map<String, StageResult> inputs);
}
