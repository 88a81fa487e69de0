package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** One line per event, for CI logs: {@code [stage] state} and {@code [stage] output line}. */
public final class PlainProgress implements ProgressView {
  private final PrintStream out;
  private final Map<String, String> names = new HashMap<>();
  private final Map<String, StringBuilder> partialLines = new HashMap<>();

  public PlainProgress(PrintStream out) {
    this.out = out;
  }

  @Override
  public void show(BuildProgress progress) {
    switch (progress.getKindCase()) {
      case STAGE -> {
        StageStatus stage = progress.getStage();
        names.put(stage.getStageId(), stage.getName());
        out.println("[" + stage.getName() + "] " + StageLabels.state(stage));
      }
      case LOG -> {
        String name = names.getOrDefault(progress.getLogStageId(), progress.getLogStageId());
        StringBuilder pending = partialLines.computeIfAbsent(progress.getLogStageId(), k -> new StringBuilder());
        pending.append(progress.getLog().getData().toString(StandardCharsets.UTF_8));
        int newline;
        while ((newline = pending.indexOf("\n")) >= 0) {
          out.println("[" + name + "] " + pending.substring(0, newline));
          pending.delete(0, newline + 1);
        }
      }
      case INSTRUCTION -> {
        var done = progress.getInstruction();
        String name = names.getOrDefault(progress.getLogStageId(), progress.getLogStageId());
        out.println(
            "[" + name + "] step " + (done.getInstructionIndex() + 1)
                + (done.getCached() ? " CACHED" : " done " + StageLabels.seconds(done.getFinishedMs() - done.getStartedMs())));
      }
      default -> {}
    }
    out.flush();
  }

  @Override
  public void close() {
    partialLines.forEach(
        (id, rest) -> {
          if (!rest.isEmpty()) {
            out.println("[" + names.getOrDefault(id, id) + "] " + rest);
          }
        });
    out.flush();
  }
}
