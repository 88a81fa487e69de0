package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Input errors of {@code stagefarm build} are reported before any farm starts, as one line. */
class BuildCommandTest {
  static String run(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      int code = Main.execute(args);
      assertThat(code).isNotZero();
    } finally {
      System.setErr(err);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }

  @Test
  void badFlagsAndMissingFilesGiveOneClearLine(@TempDir Path dir) throws Exception {
    assertThat(run("build", "--push", dir.toString())).isEqualTo("error: --push needs at least one -t NAME to push to\n");
    assertThat(run("build", "-o", "type=local,dest=x", dir.toString()))
        .startsWith("error: -o: type must be oci or docker");
    assertThat(run("build", "--progress", "fancy", dir.toString()))
        .isEqualTo("error: --progress must be auto, tty, plain or quiet, not \"fancy\"\n");
    assertThat(run("build", dir.toString())).isEqualTo("error: Dockerfile not found: " + dir.resolve("Dockerfile") + "\n");
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\n");
    assertThat(run("build", "--coordinator", "nonsense", dir.toString()))
        .isEqualTo("error: --coordinator wants HOST:PORT[,HOST:PORT…], got \"nonsense\"\n");
  }

  @Test
  void dockerfileMistakesAreReportedBeforeAnyFarmIsContacted(@TempDir Path dir) throws Exception {
    // nothing listens on port 1: an error naming the Dockerfile proves no connection was tried first
    String farm = "127.0.0.1:1";
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nFRM busybox\n");
    assertThat(run("build", "--coordinator", farm, dir.toString()))
        .isEqualTo("error: Dockerfile:2: unknown instruction: FRM\n");

    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch AS a\nCOPY onlyone\n");
    assertThat(run("build", "--coordinator", farm, dir.toString())).startsWith("error: Dockerfile:2:").contains("COPY");

    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch AS a\n");
    assertThat(run("build", "--coordinator", farm, "--target", "b", dir.toString()))
        .startsWith("error: ").contains("target stage \"b\"").doesNotContain("Exception");
  }
}
