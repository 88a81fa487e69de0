package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A live view for terminals: one line per stage (state, elapsed time, the last line of its RUN
 * output), redrawn in place with ANSI cursor movement at most ten times a second.
 *
 * <p>The frame fits the terminal, whose size is read again as the view redraws: a line longer than
 * the width would wrap and the cursor movement would no longer reach the frame's top, and a frame
 * taller than the screen would scroll its top into the scrollback on every redraw. So each line is
 * cut to the width less one column, and the frame takes at most the height less one row (the
 * cursor's); with more stages than that it shows the running and failed ones first, then the most
 * recently changed, and says how many more there are. Control characters in RUN output and names
 * are dropped: an escape sequence in a build's log must not move the cursor. A stage another worker
 * runs after the first lost its lease says so, and shows the new run's output only ({@link StageRuns}).
 */
public final class TtyProgress implements ProgressView {
  private static final long REDRAW_MS = 100;
  private final PrintStream out;
  private final Supplier<TerminalSize> size;
  private final LongSupplier clock;
  private final long startedMs;
  private final Map<String, StageStatus> stages = new LinkedHashMap<>();
  private final Map<String, Long> changed = new HashMap<>();
  private final Map<String, String> lastLine = new LinkedHashMap<>();
  private final StageRuns runs = new StageRuns();
  private long changes;
  private int drawnLines;
  private long lastDrawMs;

  public TtyProgress(PrintStream out) {
    this(out, TerminalSize.reader(), System::currentTimeMillis);
  }

  TtyProgress(PrintStream out, Supplier<TerminalSize> size, LongSupplier clock) {
    this.out = out;
    this.size = size;
    this.clock = clock;
    this.startedMs = clock.getAsLong();
    this.lastDrawMs = Long.MIN_VALUE / 2;
  }

  @Override
  public synchronized void phaseStarted(String name) {
    if (drawnLines == 0) { // before the live view: a line of its own
      out.println(fit("[+] " + name + " …", size.get().columns() - 1));
      out.flush();
    }
  }

  @Override
  public synchronized void show(BuildProgress progress) {
    switch (progress.getKindCase()) {
      case STAGE -> {
        StageRuns.Change change = runs.stage(progress.getStage());
        if (change == StageRuns.Change.STALE) {
          return; // the worker that lost the stage, named again for its late output
        }
        if (change == StageRuns.Change.RERUN) {
          lastLine.remove(progress.getStage().getStageId()); // the lost run's output is not the new run's
        }
        stages.put(progress.getStage().getStageId(), progress.getStage());
        changed.put(progress.getStage().getStageId(), ++changes);
      }
      case LOG -> {
        if (!runs.current(progress)) {
          return;
        }
        String text = progress.getLog().getData().toString(StandardCharsets.UTF_8).strip();
        if (!text.isEmpty()) {
          String last = text.substring(text.lastIndexOf('\n') + 1);
          lastLine.put(progress.getLogStageId(), last.length() > 1024 ? last.substring(0, 1024) : last);
        }
      }
      default -> {}
    }
    long now = clock.getAsLong();
    if (now - lastDrawMs >= REDRAW_MS || progress.hasBuild()) {
      draw(now);
    }
  }

  private void draw(long now) {
    TerminalSize terminal = size.get();
    int width = terminal.columns() - 1;
    List<String> lines = frame(now, width, terminal.rows() - 1);
    StringBuilder frame = new StringBuilder();
    if (drawnLines > 0) {
      frame.append("\u001b[").append(drawnLines).append('F');
    }
    frame.append("\u001b[J");
    for (String line : lines) {
      frame.append(line).append('\n');
    }
    out.print(frame);
    out.flush();
    drawnLines = lines.size();
    lastDrawMs = now;
  }

  /** The frame's lines: at most {@code height}, none wider than {@code width} columns. */
  private List<String> frame(long now, int width, int height) {
    long finished = stages.values().stream().filter(s -> StageLabels.finished(s.getState())).count();
    List<String> lines = new ArrayList<>();
    lines.add(fit("[+] building %s (%d/%d stages finished)".formatted(
        StageLabels.seconds(now - startedMs), finished, stages.size()), width));
    int room = height - 1;
    List<StageStatus> shown = new ArrayList<>(stages.values());
    if (shown.size() > room) {
      List<StageStatus> kept = new ArrayList<>(shown);
      kept.sort(Comparator.comparingInt((StageStatus s) -> rank(s.getState()))
          .thenComparing(s -> -changed.getOrDefault(s.getStageId(), 0L)));
      Set<String> keep = new HashSet<>();
      kept.subList(0, Math.max(0, room - 1)).forEach(s -> keep.add(s.getStageId()));
      // in their first-seen order, so a line does not jump about between frames
      shown.removeIf(s -> !keep.contains(s.getStageId()));
    }
    for (StageStatus stage : shown) {
      lines.add(fit(line(stage, now), width));
    }
    int hidden = stages.size() - shown.size();
    if (hidden > 0 && room > 0) {
      lines.add(fit("… " + hidden + " more (" + hiddenStates(shown) + ")", width));
    }
    return lines;
  }

  private String line(StageStatus stage, long now) {
    StringBuilder line = new StringBuilder();
    line.append(StageLabels.finished(stage.getState()) ? " => " : " -> ")
        .append(stage.getName()).append(": ").append(StageLabels.state(stage));
    if (stage.getState() == StageState.STAGE_RUNNING) {
      line.append(' ').append(StageLabels.seconds(now - stage.getStartedMs()));
      var lost = runs.replaced(stage.getStageId());
      if (!lost.isEmpty()) {
        line.append(" (again: ").append(String.join(", ", lost)).append(" lost its lease)");
      }
      String tail = lastLine.get(stage.getStageId());
      if (tail != null) {
        line.append("  | ").append(tail);
      }
    }
    return line.toString();
  }

  /** Which stages a crowded frame keeps first: running, then failed, then the rest. */
  private static int rank(StageState state) {
    return switch (state) {
      case STAGE_RUNNING -> 0;
      case STAGE_FAILED -> 1;
      default -> 2;
    };
  }

  /** The states of the stages left out, counted: "3 running, 12 done". */
  private String hiddenStates(List<StageStatus> shown) {
    Set<String> ids = new HashSet<>();
    shown.forEach(s -> ids.add(s.getStageId()));
    Map<String, Integer> counts = new TreeMap<>();
    for (StageStatus stage : stages.values()) {
      if (!ids.contains(stage.getStageId())) {
        counts.merge(stage.getState().name().replaceFirst("^STAGE_", "").toLowerCase(), 1, Integer::sum);
      }
    }
    List<String> parts = new ArrayList<>();
    counts.forEach((state, count) -> parts.add(count + " " + state));
    return String.join(", ", parts);
  }

  /**
   * The text without control characters, cut to {@code width} terminal columns ("…" where cut).
   * East Asian wide characters take two columns, combining marks none.
   */
  static String fit(String text, int width) {
    StringBuilder fitted = new StringBuilder();
    int used = 0;
    int[] codePoints = text.codePoints().filter(c -> !Character.isISOControl(c)).toArray();
    int total = 0;
    for (int c : codePoints) {
      total += columns(c);
    }
    if (total <= width) {
      for (int c : codePoints) {
        fitted.appendCodePoint(c);
      }
      return fitted.toString();
    }
    for (int c : codePoints) {
      if (used + columns(c) > width - 1) {
        break;
      }
      fitted.appendCodePoint(c);
      used += columns(c);
    }
    return width >= 1 ? fitted.append('…').toString() : "";
  }

  /** How many terminal columns a code point takes (wcwidth's rule, for the common ranges). */
  static int columns(int c) {
    int type = Character.getType(c);
    if (type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || type == Character.FORMAT) {
      return 0;
    }
    boolean wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F)
        || (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F)
        || (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F)
        || (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
    return wide ? 2 : 1;
  }

  @Override
  public synchronized void close() {
    draw(clock.getAsLong());
  }
}
