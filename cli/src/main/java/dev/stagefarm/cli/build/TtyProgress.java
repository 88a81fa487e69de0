package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A live view for terminals: one line per stage (state, elapsed time, the last line of its RUN
 * output), redrawn in place with ANSI cursor movement at most ten times a second.
 */
public final class TtyProgress implements ProgressView {
  private static final long REDRAW_MS = 100;
  private final PrintStream out;
  private final long startedMs = System.currentTimeMillis();
  private final Map<String, StageStatus> stages = new LinkedHashMap<>();
  private final Map<String, String> lastLine = new LinkedHashMap<>();
  private int drawnLines;
  private long lastDrawMs;

  public TtyProgress(PrintStream out) {
    this.out = out;
  }

  @Override
  public synchronized void phaseStarted(String name) {
    if (drawnLines == 0) { // before the live view: a line of its own
      out.println("[+] " + name + " …");
      out.flush();
    }
  }

  @Override
  public synchronized void show(BuildProgress progress) {
    switch (progress.getKindCase()) {
      case STAGE -> stages.put(progress.getStage().getStageId(), progress.getStage());
      case LOG -> {
        String text = progress.getLog().getData().toString(StandardCharsets.UTF_8).strip();
        if (!text.isEmpty()) {
          String[] lines = text.split("\n");
          lastLine.put(progress.getLogStageId(), lines[lines.length - 1]);
        }
      }
      default -> {}
    }
    long now = System.currentTimeMillis();
    if (now - lastDrawMs >= REDRAW_MS || progress.hasBuild()) {
      draw(now);
    }
  }

  private void draw(long now) {
    StringBuilder frame = new StringBuilder();
    if (drawnLines > 0) {
      frame.append("\u001b[").append(drawnLines).append('F');
    }
    frame.append("\u001b[J");
    frame.append(String.format("[+] building %s%n", StageLabels.seconds(now - startedMs)));
    int lines = 1;
    for (StageStatus stage : stages.values()) {
      String marker = StageLabels.finished(stage.getState()) ? " => " : " -> ";
      String elapsed =
          stage.getState() == StageState.STAGE_RUNNING
              ? " " + StageLabels.seconds(now - stage.getStartedMs())
              : "";
      frame.append(marker).append(stage.getName()).append(": ").append(StageLabels.state(stage)).append(elapsed);
      String tail = lastLine.get(stage.getStageId());
      if (stage.getState() == StageState.STAGE_RUNNING && tail != null) {
        frame.append("  | ").append(tail.length() > 60 ? tail.substring(0, 60) + "…" : tail);
      }
      frame.append('\n');
      lines++;
    }
    out.print(frame);
    out.flush();
    drawnLines = lines;
    lastDrawMs = now;
  }

  @Override
  public synchronized void close() {
    draw(System.currentTimeMillis());
  }
}
