package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * For CI logs, in the shape of BuildKit's plain progress: every step gets a number when it first
 * shows ({@code #5 [build 2/4] RUN make}), its output lines follow with seconds since the step
 * showed ({@code #5 0.412 compiling}), and it ends with {@code #5 DONE 1.2s} or {@code #5 CACHED}.
 * Steps of stages running in parallel interleave, each line naming its step. Stages add where
 * they ran ({@code #4 [build] running on worker-1}) and retries. A stage another worker runs after
 * the first lost its lease starts its steps over under new numbers; the first worker's late output
 * is left out ({@link StageRuns}).
 */
public final class PlainProgress implements ProgressView {
  private final PrintStream out;
  private final LongSupplier clock;
  private final Map<String, StageStatus> stages = new HashMap<>();
  private final Map<String, Integer> stageVertex = new HashMap<>();
  private final Map<String, Step> steps = new HashMap<>();
  private final StageRuns runs = new StageRuns();
  private int nextVertex = 1;
  private int phaseVertex;
  private long phaseStartedMs;

  /** One Dockerfile step of a stage, as shown. */
  private static final class Step {
    final int vertex;
    final long shownMs;
    final StringBuilder partialLine = new StringBuilder();
    boolean done;

    Step(int vertex, long shownMs) {
      this.vertex = vertex;
      this.shownMs = shownMs;
    }
  }

  public PlainProgress(PrintStream out) {
    this(out, System::currentTimeMillis);
  }

  PlainProgress(PrintStream out, LongSupplier clock) {
    this.out = out;
    this.clock = clock;
  }

  @Override
  public synchronized void phaseStarted(String name) {
    phaseVertex = nextVertex++;
    phaseStartedMs = clock.getAsLong();
    out.println("#" + phaseVertex + " [internal] " + name);
    out.flush();
  }

  @Override
  public synchronized void phaseDone(String detail) {
    if (phaseVertex == 0) {
      return;
    }
    if (!detail.isEmpty()) {
      out.println("#" + phaseVertex + " " + detail);
    }
    out.println("#" + phaseVertex + " DONE " + StageLabels.seconds(clock.getAsLong() - phaseStartedMs));
    out.println();
    out.flush();
    phaseVertex = 0;
  }

  @Override
  public synchronized void show(BuildProgress progress) {
    long now = progress.getTimestampMs() > 0 ? progress.getTimestampMs() : clock.getAsLong();
    switch (progress.getKindCase()) {
      case STAGE -> stage(progress.getStage(), now);
      case LOG -> {
        if (runs.current(progress)) {
          log(progress.getLogStageId(), progress.getLog(), now);
        }
      }
      case INSTRUCTION -> {
        if (runs.current(progress)) {
          instructionDone(progress.getLogStageId(), progress.getInstruction(), now);
        }
      }
      default -> {}
    }
    out.flush();
  }

  private void stage(StageStatus stage, long now) {
    StageRuns.Change change = runs.stage(stage);
    if (change == StageRuns.Change.STALE) {
      return;
    }
    StageStatus before = stages.get(stage.getStageId());
    stage = StageLabels.withKnownSteps(stage, stages);
    String id = stage.getStageId();
    if (change == StageRuns.Change.RERUN) {
      // the same attempt on another worker: Kafka handed the task on when the first one's lease ran out
      out.println("#" + stageVertex(id) + " [" + stage.getName() + "] lost on " + before.getWorkerId()
          + " (its lease on the task ran out); running on " + stage.getWorkerId());
      startOver(id, before.getWorkerId());
      return;
    }
    if (stage.getState() == StageState.STAGE_RUNNING && before != null && before.getState() == StageState.STAGE_RUNNING
        && before.getAttempt() == stage.getAttempt() && before.getWorkerId().equals(stage.getWorkerId())) {
      return; // nothing new (the coordinator named the worker again after a lost worker's late output)
    }
    switch (stage.getState()) {
      case STAGE_QUEUED -> {
        if (stage.getAttempt() > 1) {
          out.println("#" + stageVertex(id) + " [" + stage.getName() + "] retrying: attempt " + stage.getAttempt());
        }
      }
      case STAGE_RUNNING -> out.println("#" + stageVertex(id) + " [" + stage.getName() + "] running on "
          + stage.getWorkerId() + (stage.getAttempt() > 1 ? " (attempt " + stage.getAttempt() + ")" : ""));
      case STAGE_CACHED -> {
        for (int i = 0; i < stage.getStepsCount(); i++) {
          Step step = step(id, i, now);
          if (!step.done) {
            step.done = true;
            out.println("#" + step.vertex + " CACHED");
            out.println();
          }
        }
        if (stage.getStepsCount() == 0) {
          out.println("#" + stageVertex(id) + " [" + stage.getName() + "] CACHED");
        }
      }
      case STAGE_DONE -> out.println("#" + stageVertex(id) + " [" + stage.getName() + "] DONE "
          + StageLabels.seconds(stage.getFinishedMs() - stage.getStartedMs()));
      case STAGE_FAILED -> {
        flushPartialLines(id);
        // the step that was under way failed with it (the build's error says how)
        steps.forEach((key, step) -> {
          if (key.startsWith(id + "\u0000") && !step.done) {
            step.done = true;
            out.println("#" + step.vertex + " ERROR");
          }
        });
        out.println("#" + stageVertex(id) + " [" + stage.getName() + "] ERROR");
      }
      case STAGE_CANCELLED -> out.println("#" + stageVertex(id) + " [" + stage.getName() + "] CANCELED");
      default -> {}
    }
  }

  private void log(String stageId, StageEvent.LogChunk chunk, long now) {
    Step step = step(stageId, chunk.getInstructionIndex(), now);
    StringBuilder pending = step.partialLine;
    pending.append(chunk.getData().toString(StandardCharsets.UTF_8));
    int newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      outputLine(step, pending.substring(0, newline), now);
      pending.delete(0, newline + 1);
    }
  }

  private void instructionDone(String stageId, StageEvent.InstructionDone done, long now) {
    Step step = step(stageId, done.getInstructionIndex(), now);
    if (!step.partialLine.isEmpty()) {
      outputLine(step, step.partialLine.toString(), now);
      step.partialLine.setLength(0);
    }
    step.done = true;
    out.println("#" + step.vertex + (done.getCached() ? " CACHED"
        : " DONE " + StageLabels.seconds(done.getFinishedMs() - done.getStartedMs())));
    out.println();
  }

  private void outputLine(Step step, String line, long now) {
    out.printf("#%d %.3f %s%n", step.vertex, Math.max(0, now - step.shownMs) / 1000.0, line);
  }

  /** The step, numbered and announced with its instruction the first time it shows. */
  private Step step(String stageId, int index, long now) {
    String key = stageId + "\u0000" + index;
    Step step = steps.get(key);
    if (step == null) {
      step = new Step(nextVertex++, now);
      steps.put(key, step);
      StageStatus stage = stages.get(stageId);
      String name = stage == null ? stageId : stage.getName();
      int count = stage == null ? 0 : stage.getStepsCount();
      String text = index < count ? " " + stage.getSteps(index) : "";
      out.println("#" + step.vertex + " [" + name + " " + (index + 1) + (count > 0 ? "/" + count : "") + "]" + text);
    }
    return step;
  }

  /** The steps of the lost run end here; the new run's show again, under new numbers. */
  private void startOver(String stageId, String lostWorker) {
    flushPartialLines(stageId);
    steps.entrySet().removeIf(e -> {
      if (!e.getKey().startsWith(stageId + "\u0000")) {
        return false;
      }
      if (!e.getValue().done) {
        out.println("#" + e.getValue().vertex + " LOST with " + lostWorker);
        out.println();
      }
      return true;
    });
  }

  private int stageVertex(String stageId) {
    return stageVertex.computeIfAbsent(stageId, id -> nextVertex++);
  }

  private void flushPartialLines(String stageId) {
    steps.forEach((key, step) -> {
      if (key.startsWith(stageId + "\u0000") && !step.partialLine.isEmpty()) {
        outputLine(step, step.partialLine.toString(), clock.getAsLong());
        step.partialLine.setLength(0);
      }
    });
  }

  @Override
  public synchronized void close() {
    stages.keySet().forEach(this::flushPartialLines);
    out.flush();
  }
}
