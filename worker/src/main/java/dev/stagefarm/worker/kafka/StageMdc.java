package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.v1.StageTask;
import org.slf4j.MDC;

/**
 * The task's build id, stage id and attempt in the logging MDC of this thread until closed: every
 * log line about the task carries them (in JSON logs as fields, docs/operations.md "Logs").
 */
final class StageMdc implements AutoCloseable {
  static final String BUILD_ID = "buildId";
  static final String STAGE_ID = "stageId";
  static final String ATTEMPT = "attempt";

  private StageMdc() {}

  static StageMdc of(StageTask task) {
    MDC.put(BUILD_ID, task.getBuildId());
    MDC.put(STAGE_ID, task.getStageId());
    MDC.put(ATTEMPT, Integer.toString(task.getAttempt()));
    return new StageMdc();
  }

  @Override
  public void close() {
    MDC.remove(BUILD_ID);
    MDC.remove(STAGE_ID);
    MDC.remove(ATTEMPT);
  }
}
