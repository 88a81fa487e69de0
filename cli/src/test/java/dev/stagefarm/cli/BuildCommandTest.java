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
  record Run(int exitCode, String stderr) {}

  static Run execute(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      int code = Main.execute(args);
      return new Run(code, captured.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(err);
    }
  }

  static String run(String... args) {
    Run run = execute(args);
    assertThat(run.exitCode()).isNotZero();
    return run.stderr();
  }

  /** The error line of a run that must exit with {@code code}. */
  static String fails(int code, String... args) {
    Run run = execute(args);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(code);
    return run.stderr();
  }

  @Test
  void badFlagsAndMissingFilesGiveOneClearLine(@TempDir Path dir) throws Exception {
    assertThat(fails(ExitCodes.USAGE, "build", "--push", dir.toString()))
        .isEqualTo("error: pushing needs a name: -t NAME, or name=REF in -o type=image|registry\n");
    assertThat(fails(ExitCodes.USAGE, "build", "-o", "type=local", dir.toString()))
        .isEqualTo("error: -o type=local needs dest=DIR\n");
    assertThat(fails(ExitCodes.USAGE, "build", "--progress", "fancy", dir.toString()))
        .isEqualTo("error: --progress must be auto, tty, plain, rawjson or quiet, not \"fancy\"\n");
    assertThat(run("build", dir.toString())).isEqualTo("error: Dockerfile not found: " + dir.resolve("Dockerfile") + "\n");
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\n");
    assertThat(fails(ExitCodes.USAGE, "build", "--coordinator", "nonsense", dir.toString()))
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

  @Test
  void buildxFlagsStagefarmLacksAreRefusedByNameAsUsageErrors(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\n");
    for (String[] flag : new String[][] {
        {"--attest", "type=sbom"}, {"--allow", "network.host"}}) {
      assertThat(fails(ExitCodes.USAGE, "build", flag[0], flag[1], dir.toString()))
          .isEqualTo("error: " + flag[0] + " is not supported yet (docs/status.md lists what stagefarm build lacks)\n");
    }
    assertThat(fails(ExitCodes.USAGE, "build", "--annotation", "index:a=b", dir.toString()))
        .contains("type \"index\" is not supported yet");
    assertThat(fails(ExitCodes.USAGE, "build", "--network", "bridge", dir.toString()))
        .isEqualTo("error: --network must be default, none or host, not \"bridge\"\n");
    assertThat(fails(ExitCodes.USAGE, "build", "--label", "novalue", dir.toString()))
        .isEqualTo("error: --label wants KEY=VALUE, got \"novalue\"\n");
    assertThat(fails(ExitCodes.USAGE, "build", "--ssh", "default", dir.toString()))
        .contains("--ssh is not supported: a RUN runs on a farm worker");
    assertThat(fails(ExitCodes.USAGE, "build", "--build-context", "src=" + dir.resolve("missing"), dir.toString()))
        .contains("--build-context src=" + dir.resolve("missing") + ": not a directory");
    assertThat(fails(ExitCodes.USAGE, "build", "--build-context", "img=oci-layout://" + dir, dir.toString()))
        .contains("--build-context img=oci-layout://" + dir + ": " + dir + " is not an OCI layout (no oci-layout file)");
    assertThat(fails(ExitCodes.USAGE, "build", "--ulimit", "nofile=many", dir.toString()))
        .contains("ulimit nofile: \"many\" is not a number");
    assertThat(fails(ExitCodes.USAGE, "build", "-", "-f", "-"))
        .contains("cannot both come from standard input");
    assertThat(fails(ExitCodes.USAGE, "build", "https://example.invalid/repo.git"))
        .contains("is a remote git repository or URL: stagefarm fetches no context from the network");
    assertThat(fails(ExitCodes.USAGE, "build", "-q", "-o", "-", dir.toString())).contains("-q prints the image ID");
    assertThat(fails(ExitCodes.USAGE, "build", "--no-such-flag", dir.toString())).contains("Unknown option");
  }
}
