package dev.stagefarm.cli.build;

import static dev.stagefarm.cli.build.ProgressViewsTest.log;
import static dev.stagefarm.cli.build.ProgressViewsTest.stage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The TTY view rendered into a virtual terminal of a fixed size: it must fit, never wrap or scroll. */
class TtyProgressTest {

  /**
   * A terminal of {@code columns}×{@code rows} cells that understands what the view writes: text,
   * newlines, ESC[nF (cursor up n lines, to column 0) and ESC[J (erase below). It counts what
   * would break a redraw: a line reaching past the last column (the terminal wraps it), a newline
   * on the bottom row (the screen scrolls), a cursor movement above the top row.
   */
  static final class VirtualTerminal {
    final int columns;
    final int rows;
    final List<StringBuilder> screen = new ArrayList<>();
    int row;
    int column;
    int wraps;
    int scrolls;
    int clampedMoves;

    VirtualTerminal(int columns, int rows) {
      this.columns = columns;
      this.rows = rows;
      for (int i = 0; i < rows; i++) {
        screen.add(new StringBuilder());
      }
    }

    void write(String output) {
      int i = 0;
      while (i < output.length()) {
        int c = output.codePointAt(i);
        i += Character.charCount(c);
        if (c == 0x1b) {
          assertThat(output.charAt(i)).as("only CSI sequences").isEqualTo('[');
          int end = i + 1;
          while (Character.isDigit(output.charAt(end))) {
            end++;
          }
          int n = end > i + 1 ? Integer.parseInt(output.substring(i + 1, end)) : 0;
          char command = output.charAt(end);
          i = end + 1;
          switch (command) {
            case 'F' -> {
              if (n > row) {
                clampedMoves++;
              }
              row = Math.max(0, row - n);
              column = 0;
            }
            case 'J' -> {
              screen.get(row).setLength(Math.min(screen.get(row).length(), column));
              for (int r = row + 1; r < rows; r++) {
                screen.get(r).setLength(0);
              }
            }
            default -> throw new AssertionError("unexpected escape sequence ESC[" + n + command);
          }
        } else if (c == '\n') {
          column = 0;
          if (row == rows - 1) {
            scrolls++;
            screen.removeFirst();
            screen.add(new StringBuilder());
          } else {
            row++;
          }
        } else {
          assertThat(Character.isISOControl(c)).as("control character U+%04X reached the terminal", c).isFalse();
          int width = c >= 0x4E00 && c <= 0x9FFF ? 2 : 1; // the CJK used below
          if (column + width > columns) {
            wraps++;
            column = 0;
            row = Math.min(rows - 1, row + 1);
          }
          StringBuilder line = screen.get(row);
          line.setLength(Math.min(line.length(), column));
          line.appendCodePoint(c);
          column += width;
        }
      }
    }

    List<String> visible() {
      return screen.stream().map(StringBuilder::toString).filter(s -> !s.isEmpty()).toList();
    }
  }

  /** Renders the events one redraw each (the clock moves 1 s per reading) into the terminal. */
  private static VirtualTerminal render(int columns, int rows, List<BuildProgress> events) {
    VirtualTerminal terminal = new VirtualTerminal(columns, rows);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    AtomicLong clock = new AtomicLong();
    try (TtyProgress view = new TtyProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8),
        () -> new TerminalSize(columns, rows), () -> clock.addAndGet(1000))) {
      for (BuildProgress event : events) {
        view.show(event);
        terminal.write(bytes.toString(StandardCharsets.UTF_8));
        bytes.reset();
      }
    }
    terminal.write(bytes.toString(StandardCharsets.UTF_8));
    return terminal;
  }

  /** 40 stages: 30 done, 5 running with long RUN output, 5 queued; names as long as bake makes them. */
  private static List<BuildProgress> manyStages() {
    List<BuildProgress> events = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      events.add(stage("s" + i, "target-with-a-rather-long-name stage-" + i, StageState.STAGE_QUEUED, "", 0, 0));
    }
    for (int i = 0; i < 35; i++) {
      events.add(stage("s" + i, "target-with-a-rather-long-name stage-" + i, StageState.STAGE_RUNNING, "worker-1",
          1000, 0));
      events.add(log("s" + i, "compiling " + "src/main/very/deep/path/".repeat(8) + "File" + i + ".java\n"));
      if (i < 30) {
        events.add(stage("s" + i, "target-with-a-rather-long-name stage-" + i, StageState.STAGE_DONE, "worker-1",
            1000, 3000));
      }
    }
    return events;
  }

  @Test
  void manyStagesInASmallTerminalNeverWrapOrScroll() {
    VirtualTerminal terminal = render(100, 12, manyStages());

    assertThat(terminal.wraps).as("lines wrapped").isZero();
    assertThat(terminal.scrolls).as("the screen scrolled").isZero();
    assertThat(terminal.clampedMoves).as("a redraw moved above the screen's top").isZero();
    List<String> frame = terminal.visible();
    assertThat(frame).hasSize(11); // the 12th row is the cursor's
    assertThat(frame).allSatisfy(line -> assertThat(line.codePointCount(0, line.length())).isLessThan(100));
    assertThat(frame.getFirst()).startsWith("[+] building").contains("(30/40 stages finished)");
    List<String> running = frame.stream().filter(line -> line.contains(": running on worker-1")).toList();
    assertThat(running).extracting(line -> line.replaceFirst(".*(stage-\\d+).*", "$1"))
        .containsExactly("stage-30", "stage-31", "stage-32", "stage-33", "stage-34");
    assertThat(running).allSatisfy(line -> assertThat(line).contains("| compiling src/main").endsWith("…"));
    // the room left goes to the stages that finished last, in their first-seen order
    assertThat(frame.subList(1, 5)).extracting(line -> line.replaceFirst(".*(stage-\\d+): DONE.*", "$1"))
        .containsExactly("stage-26", "stage-27", "stage-28", "stage-29");
    assertThat(frame.getLast()).isEqualTo("… 31 more (26 done, 5 queued)");
  }

  @Test
  void moreRunningStagesThanRowsShowsAsManyAsFitAndCountsTheRest() {
    List<BuildProgress> events = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      events.add(stage("s" + i, "stage-" + i, StageState.STAGE_RUNNING, "worker-" + i, 0, 0));
    }
    VirtualTerminal terminal = render(80, 6, events);

    assertThat(terminal.scrolls).isZero();
    assertThat(terminal.clampedMoves).isZero();
    assertThat(terminal.visible()).hasSize(5);
    assertThat(terminal.visible().getLast()).isEqualTo("… 17 more (17 running)");
  }

  @Test
  void aStageListThatFitsIsShownWhole() {
    VirtualTerminal terminal = render(80, 24, ProgressViewsTest.BUILD);

    assertThat(terminal.visible()).hasSize(3).noneMatch(line -> line.startsWith("…"));
    assertThat(terminal.visible()).contains(" => build: DONE 2.0s", " => 1: CACHED");
  }

  @Test
  void wideCharactersCountTwoColumnsAndEscapesInTheLogNeverReachTheTerminal() {
    List<BuildProgress> events = List.of(
        stage("s", "build", StageState.STAGE_RUNNING, "w", 0, 0),
        log("s", "编译".repeat(40) + "\n"),
        log("s", "\u001b[2J\u001b[10Aowned\r\u0007\n"));
    VirtualTerminal terminal = render(40, 10, events.subList(0, 2));
    assertThat(terminal.wraps).isZero();

    terminal = render(200, 10, events); // an unexpected escape fails inside the terminal
    assertThat(terminal.visible().get(1)).endsWith("| [2J[10Aowned");
  }

  @Test
  void aResizedTerminalGetsFramesOfItsNewSize() {
    AtomicReference<TerminalSize> size = new AtomicReference<>(new TerminalSize(120, 40));
    AtomicLong clock = new AtomicLong();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    TtyProgress view = new TtyProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), size::get,
        () -> clock.addAndGet(1000));
    List<BuildProgress> events = manyStages();
    events.subList(0, events.size() / 2).forEach(view::show);
    size.set(new TerminalSize(30, 8));
    bytes.reset();
    events.subList(events.size() / 2, events.size()).forEach(view::show);
    view.close();

    String output = bytes.toString(StandardCharsets.UTF_8);
    String lastFrame = output.substring(output.lastIndexOf("\u001b[J") + 3);
    assertThat(lastFrame.split("\n")).hasSizeLessThanOrEqualTo(7)
        .allSatisfy(line -> assertThat(line.length()).isLessThan(30));
  }

  @Test
  void theEnvironmentsColumnsAndLinesAreUsedWhenValid() {
    assertThat(TerminalSize.fromEnvironment("132", "50")).isEqualTo(new TerminalSize(132, 50));
    assertThat(TerminalSize.fromEnvironment(null, "x")).isEqualTo(TerminalSize.DEFAULT);
    assertThat(TerminalSize.fromEnvironment("-3", "0")).isEqualTo(TerminalSize.DEFAULT);
  }
}
