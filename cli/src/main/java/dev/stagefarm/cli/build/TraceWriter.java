package dev.stagefarm.cli.build;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records a build's timeline and writes it as Chrome trace-event JSON: one track (thread) per
 * worker, one span per stage and one per instruction, so Perfetto or chrome://tracing shows the
 * parallelism. Cached stages go on a track of their own.
 */
public final class TraceWriter {
  private static final String CACHE_TRACK = "cache (no worker)";
  private final Map<String, StageStatus> finishedStages = new LinkedHashMap<>();
  private final Map<String, String> stageWorker = new LinkedHashMap<>();
  private final List<StageEvent.InstructionDone> instructions = new ArrayList<>();
  private final List<String> instructionStages = new ArrayList<>();

  public synchronized void record(BuildProgress progress) {
    if (progress.hasStage()) {
      StageStatus stage = progress.getStage();
      if (stage.getState() == StageState.STAGE_RUNNING) {
        stageWorker.put(stage.getStageId(), stage.getWorkerId());
      }
      if (StageLabels.finished(stage.getState())) {
        finishedStages.put(stage.getStageId(), stage);
      }
    } else if (progress.hasInstruction()) {
      instructions.add(progress.getInstruction());
      instructionStages.add(progress.getLogStageId());
    }
  }

  public synchronized void write(Path file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ArrayNode events = root.putArray("traceEvents");
    Map<String, Integer> tracks = new LinkedHashMap<>();
    Map<String, String> names = new LinkedHashMap<>();
    for (StageStatus stage : finishedStages.values()) {
      names.put(stage.getStageId(), stage.getName());
      String worker = track(stage);
      int tid = tracks.computeIfAbsent(worker, k -> tracks.size() + 1);
      ObjectNode span = events.addObject();
      span.put("name", "stage " + stage.getName());
      span.put("cat", "stage");
      span.put("ph", "X");
      span.put("pid", 1);
      span.put("tid", tid);
      span.put("ts", stage.getStartedMs() * 1000);
      span.put("dur", Math.max(1, stage.getFinishedMs() - stage.getStartedMs()) * 1000);
      span.putObject("args").put("state", stage.getState().name()).put("attempt", stage.getAttempt());
    }
    for (int i = 0; i < instructions.size(); i++) {
      StageEvent.InstructionDone done = instructions.get(i);
      String stageId = instructionStages.get(i);
      String worker = stageWorker.getOrDefault(stageId, CACHE_TRACK);
      int tid = tracks.computeIfAbsent(worker, k -> tracks.size() + 1);
      ObjectNode span = events.addObject();
      span.put("name", names.getOrDefault(stageId, stageId) + " step " + (done.getInstructionIndex() + 1));
      span.put("cat", "instruction");
      span.put("ph", "X");
      span.put("pid", 1);
      span.put("tid", tid);
      span.put("ts", done.getStartedMs() * 1000);
      span.put("dur", Math.max(1, done.getFinishedMs() - done.getStartedMs()) * 1000);
      span.putObject("args").put("cached", done.getCached());
    }
    tracks.forEach(
        (worker, tid) -> {
          ObjectNode meta = events.addObject();
          meta.put("name", "thread_name");
          meta.put("ph", "M");
          meta.put("pid", 1);
          meta.put("tid", tid);
          meta.putObject("args").put("name", worker);
        });
    json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
  }

  private String track(StageStatus stage) {
    if (stage.getState() == StageState.STAGE_CACHED || stage.getWorkerId().isEmpty()) {
      return stageWorker.getOrDefault(stage.getStageId(), CACHE_TRACK);
    }
    return stage.getWorkerId();
  }
}
