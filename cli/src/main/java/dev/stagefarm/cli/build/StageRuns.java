package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which run of each stage the progress entries are about, for the views. When a worker's lease on
 * a stage's task runs out, the broker hands the task to another worker: the coordinator sends a
 * stage entry naming the new worker with the same attempt. The first worker may still be alive
 * (stalled, cut off) and its late output still arrives, each entry naming it ({@code
 * log_worker_id}); and since the coordinator takes any worker's output as a sign of life, it
 * names that worker again for a moment. A replaced worker stays replaced for the attempt: its
 * output and the stage entries naming it are left out, so the view follows the new run only.
 */
final class StageRuns {
  /** What a stage entry means for the view. */
  enum Change {
    /** Show it. */
    SHOW,
    /** The same attempt now runs on another worker: the view starts the stage's steps over. */
    RERUN,
    /** It names a worker that lost this attempt: leave it out. */
    STALE
  }

  private record Run(int attempt, String worker, Set<String> replaced) {}

  private final Map<String, Run> runs = new HashMap<>();

  Change stage(StageStatus stage) {
    Run run = runs.get(stage.getStageId());
    String worker = stage.getWorkerId();
    if (run == null || stage.getAttempt() != run.attempt()) {
      runs.put(stage.getStageId(), new Run(stage.getAttempt(), worker, new LinkedHashSet<>()));
      return Change.SHOW;
    }
    if (stage.getState() != StageState.STAGE_RUNNING || worker.isEmpty() || worker.equals(run.worker())) {
      return Change.SHOW;
    }
    if (run.replaced().contains(worker)) {
      return Change.STALE;
    }
    if (!run.worker().isEmpty()) {
      run.replaced().add(run.worker());
    }
    runs.put(stage.getStageId(), new Run(run.attempt(), worker, run.replaced()));
    return run.worker().isEmpty() ? Change.SHOW : Change.RERUN;
  }

  /** Whether a log or instruction entry comes from the stage's current run (not a replaced worker's). */
  boolean current(BuildProgress entry) {
    Run run = runs.get(entry.getLogStageId());
    return run == null || !run.replaced().contains(entry.getLogWorkerId());
  }

  /** The workers that lost the stage's current attempt, in order: empty when it never moved. */
  Set<String> replaced(String stageId) {
    Run run = runs.get(stageId);
    return run == null ? Set.of() : run.replaced();
  }
}
