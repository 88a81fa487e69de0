package dev.stagefarm.cli.build;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.PrintStream;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * {@code --progress rawjson}: one JSON object per line in the shape of BuildKit's
 * {@code SolveStatus} (what {@code docker buildx build --progress rawjson} prints): {@code vertexes}
 * with {@code digest}, {@code name}, {@code started}, {@code completed}, {@code cached},
 * {@code error}; {@code logs} with {@code vertex}, {@code stream} (1 stdout, 2 stderr),
 * base64 {@code data} and {@code timestamp}; {@code statuses} ({@code id}, {@code vertex},
 * {@code current}, {@code total} bytes) for the context upload. A vertex is a Dockerfile step of a stage (its digest
 * is derived from the stage and step, stable within the build), a stage itself, or a client phase.
 *
 * <p>A stage run again by another worker after the first lost its lease on the task ({@link
 * StageRuns}): the first run's unfinished steps complete with an error naming the lost worker, the
 * new run's steps are new vertices, and the lost worker's late output is left out.
 */
public final class RawJsonProgress implements ProgressView {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final PrintStream out;
  private final LongSupplier clock;
  private final Map<String, StageStatus> stages = new HashMap<>();
  private final Map<String, Long> stepStarted = new HashMap<>();
  /** Per stage, the steps of its current run that printed output and have not completed: index to start time. */
  private final Map<String, Map<Integer, Long>> openSteps = new HashMap<>();
  private final StageRuns runs = new StageRuns();
  /** How many times each stage moved to another worker within its attempt: its steps' vertices differ per run. */
  private final Map<String, Integer> reruns = new HashMap<>();
  private String phaseDigest;
  private String phaseName;
  private long phaseStartedMs;
  private int phases;

  public RawJsonProgress(PrintStream out) {
    this(out, System::currentTimeMillis);
  }

  RawJsonProgress(PrintStream out, LongSupplier clock) {
    this.out = out;
    this.clock = clock;
  }

  @Override
  public synchronized void phaseStarted(String name) {
    phaseName = "[internal] " + name;
    phaseDigest = digest("phase", String.valueOf(phases++));
    phaseStartedMs = clock.getAsLong();
    ObjectNode status = status();
    vertex(status, phaseDigest, phaseName).put("started", time(phaseStartedMs));
    emit(status);
  }

  /** A {@code statuses} entry (BuildKit's {@code VertexStatus}) of the running phase's vertex. */
  @Override
  public synchronized void transferred(String name, long current, long total) {
    if (phaseDigest == null) {
      return;
    }
    long now = clock.getAsLong();
    ObjectNode status = status();
    status.withArray("statuses").addObject()
        .put("id", name)
        .put("vertex", phaseDigest)
        .put("name", name)
        .put("current", current)
        .put("total", total)
        .put("timestamp", time(now))
        .put("started", time(phaseStartedMs))
        .put("completed", time(now));
    emit(status);
  }

  @Override
  public synchronized void phaseDone(String detail) {
    if (phaseDigest == null) {
      return;
    }
    ObjectNode status = status();
    vertex(status, phaseDigest, phaseName).put("started", time(phaseStartedMs)).put("completed", time(clock.getAsLong()));
    emit(status);
    phaseDigest = null;
  }

  @Override
  public synchronized void show(BuildProgress progress) {
    long now = progress.getTimestampMs() > 0 ? progress.getTimestampMs() : clock.getAsLong();
    ObjectNode status = status();
    switch (progress.getKindCase()) {
      case STAGE -> {
        StageStatus stage = progress.getStage();
        StageRuns.Change change = runs.stage(stage);
        if (change == StageRuns.Change.STALE) {
          return;
        }
        stage = StageLabels.withKnownSteps(stage, stages);
        if (change == StageRuns.Change.RERUN) {
          lostRun(status, stage.getStageId(), now);
        }
        stageVertex(status, stage);
      }
      case LOG -> {
        if (!runs.current(progress)) {
          return;
        }
        StageEvent.LogChunk chunk = progress.getLog();
        String vertex = stepDigest(progress.getLogStageId(), chunk.getInstructionIndex());
        if (stepStarted.putIfAbsent(vertex, now) == null) {
          stepVertex(status, progress.getLogStageId(), chunk.getInstructionIndex()).put("started", time(now));
          openSteps.computeIfAbsent(progress.getLogStageId(), id -> new HashMap<>())
              .put(chunk.getInstructionIndex(), now);
        }
        status.withArray("logs").addObject()
            .put("vertex", vertex)
            .put("stream", chunk.getStderr() ? 2 : 1)
            .put("data", chunk.getData().toByteArray())
            .put("timestamp", time(now));
      }
      case INSTRUCTION -> {
        if (!runs.current(progress)) {
          return;
        }
        StageEvent.InstructionDone done = progress.getInstruction();
        ObjectNode vertex = stepVertex(status, progress.getLogStageId(), done.getInstructionIndex());
        Map<Integer, Long> open = openSteps.get(progress.getLogStageId());
        if (open != null) {
          open.remove(done.getInstructionIndex());
        }
        long started = done.getStartedMs() > 0 ? done.getStartedMs() : now;
        vertex.put("started", time(started)).put("completed", time(done.getFinishedMs() > 0 ? done.getFinishedMs() : now));
        if (done.getCached()) {
          vertex.put("cached", true);
        }
      }
      default -> {
        return;
      }
    }
    emit(status);
  }

  /** Ends the steps the lost run started and left unfinished, each with an error naming its worker. */
  private void lostRun(ObjectNode status, String stageId, long now) {
    String lost = null;
    for (String worker : runs.replaced(stageId)) {
      lost = worker; // the last one replaced is the run that just ended
    }
    Map<Integer, Long> open = openSteps.remove(stageId);
    if (open != null) {
      for (Map.Entry<Integer, Long> step : new java.util.TreeMap<>(open).entrySet()) {
        stepVertex(status, stageId, step.getKey()).put("started", time(step.getValue())).put("completed", time(now))
            .put("error", "lost with " + lost + " (its lease on the task ran out)");
      }
    }
    reruns.merge(stageId, 1, Integer::sum); // the new run's steps are new vertices
  }

  private void stageVertex(ObjectNode status, StageStatus stage) {
    ObjectNode vertex = vertex(status, digest("stage", stage.getStageId()),
        "[" + stage.getName() + "] " + (stage.getWorkerId().isEmpty() ? "stage" : "stage on " + stage.getWorkerId()));
    if (stage.getStartedMs() > 0) {
      vertex.put("started", time(stage.getStartedMs()));
    }
    switch (stage.getState()) {
      case STAGE_DONE -> vertex.put("completed", time(stage.getFinishedMs()));
      case STAGE_CACHED -> {
        vertex.put("cached", true).put("completed", time(Math.max(stage.getFinishedMs(), stage.getStartedMs())));
        for (int i = 0; i < stage.getStepsCount(); i++) {
          stepVertex(status, stage.getStageId(), i).put("cached", true);
        }
      }
      case STAGE_FAILED -> vertex.put("completed", time(stage.getFinishedMs())).put("error", "stage failed");
      case STAGE_CANCELLED -> vertex.put("completed", time(stage.getFinishedMs())).put("error", "context canceled");
      default -> {}
    }
  }

  private ObjectNode stepVertex(ObjectNode status, String stageId, int index) {
    StageStatus stage = stages.get(stageId);
    String name = stage == null ? stageId : stage.getName();
    int count = stage == null ? 0 : stage.getStepsCount();
    String label = "[" + name + " " + (index + 1) + (count > 0 ? "/" + count : "") + "]"
        + (index < count ? " " + stage.getSteps(index) : "");
    ObjectNode vertex = vertex(status, stepDigest(stageId, index), label);
    vertex.putArray("inputs").add(index == 0 ? digest("stage", stageId) : stepDigest(stageId, index - 1));
    return vertex;
  }

  private static ObjectNode vertex(ObjectNode status, String digest, String name) {
    return status.withArray("vertexes").addObject().put("digest", digest).put("name", name);
  }

  private String stepDigest(String stageId, int index) {
    int rerun = reruns.getOrDefault(stageId, 0);
    return digest("step", stageId + (rerun == 0 ? "" : "@" + rerun) + "/" + index);
  }

  private static String digest(String kind, String id) {
    return Digest.of(kind + "\u0000" + id).toString();
  }

  private static ObjectNode status() {
    return JSON.createObjectNode();
  }

  private static String time(long millis) {
    return Instant.ofEpochMilli(millis).toString();
  }

  private void emit(ObjectNode status) {
    out.println(status.toString());
    out.flush();
  }

  @Override
  public void close() {
    out.flush();
  }
}
