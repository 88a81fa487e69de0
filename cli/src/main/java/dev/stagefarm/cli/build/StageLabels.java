package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;

/** How stage states read on screen, shared by the plain and TTY views. */
final class StageLabels {
  private StageLabels() {}

  static String state(StageStatus stage) {
    return switch (stage.getState()) {
      case STAGE_WAITING -> "waiting";
      case STAGE_QUEUED -> stage.getAttempt() > 1 ? "queued (attempt " + stage.getAttempt() + ")" : "queued";
      case STAGE_RUNNING -> "running on " + stage.getWorkerId();
      case STAGE_CACHED -> "CACHED";
      case STAGE_DONE -> "DONE " + seconds(stage.getFinishedMs() - stage.getStartedMs());
      case STAGE_FAILED -> "FAILED";
      case STAGE_CANCELLED -> "cancelled";
      case STAGE_SKIPPED -> "skipped";
      default -> stage.getState().name().toLowerCase();
    };
  }

  static boolean finished(StageState state) {
    return state == StageState.STAGE_DONE
        || state == StageState.STAGE_CACHED
        || state == StageState.STAGE_FAILED
        || state == StageState.STAGE_CANCELLED
        || state == StageState.STAGE_SKIPPED;
  }

  /**
   * The stage's status with its steps: the coordinator sends them with a stage's first entries;
   * a later entry without them keeps those already known.
   */
  static StageStatus withKnownSteps(StageStatus stage, java.util.Map<String, StageStatus> known) {
    StageStatus before = known.get(stage.getStageId());
    StageStatus merged = stage.getStepsCount() == 0 && before != null
        ? stage.toBuilder().addAllSteps(before.getStepsList()).build() : stage;
    known.put(stage.getStageId(), merged);
    return merged;
  }

  static String seconds(long millis) {
    return String.format("%.1fs", Math.max(0, millis) / 1000.0);
  }
}
