package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ParseCommandTest {

  /** BuildKit's parser corpus, located like the dockerfile module's conformance suites. */
  static Stream<Path> corpusCases() throws IOException {
    Path dir = Path.of(System.getProperty("stagefarm.conformance.dir", "../../shared/conformance"));
    Path cases = dir.resolve("buildkit-parser").resolve("testfiles");
    if (!Files.isDirectory(cases)) {
      String notice = "BuildKit conformance corpus not found at " + dir.toAbsolutePath();
      if (Boolean.getBoolean("stagefarm.conformance.required")) {
        throw new IllegalStateException(notice + "; it is required in this run");
      }
      System.err.println("NOTICE: skipping conformance tests: " + notice);
      assumeTrue(false, notice);
    }
    try (Stream<Path> list = Files.list(cases)) {
      return list.sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "parse --format dump testfiles/{0}")
  @MethodSource("corpusCases")
  void dumpPrintsExactlyTheResultFile(Path caseDir) throws IOException {
    byte[] expected = Files.readAllBytes(caseDir.resolve("result"));

    CliRun run =
        CliRun.of("parse", "--format", "dump", "-f", caseDir.resolve("Dockerfile").toString());

    assertThat(run.stderr()).isEmpty();
    assertThat(run.exitCode()).isZero();
    assertThat(run.stdout()).isEqualTo(new String(expected, java.nio.charset.StandardCharsets.UTF_8));
    assertThat(run.stdoutBytes()).isEqualTo(expected);
  }

  @Test
  void jsonFormatShowsFlagsLinesAndHeredocs(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("Dockerfile");
    Files.writeString(
        file, "# syntax=docker/dockerfile:1\nFROM alpine AS base\nCOPY --link <<EOF /x\nhi\nEOF\n"
            + "ONBUILD RUN echo hi\n");

    CliRun run = CliRun.of("parse", "--format", "json", "-f", file.toString());

    assertThat(run.exitCode()).isZero();
    JsonNode json = new ObjectMapper().readTree(run.stdout());
    assertThat(json.at("/directives/syntax").asText()).isEqualTo("docker/dockerfile:1");
    assertThat(json.at("/instructions/0/keyword").asText()).isEqualTo("FROM");
    assertThat(json.at("/instructions/0/args").toString()).isEqualTo("[\"alpine\",\"AS\",\"base\"]");
    assertThat(json.at("/instructions/1/flags/0").asText()).isEqualTo("--link");
    assertThat(json.at("/instructions/1/startLine").asInt()).isEqualTo(3);
    assertThat(json.at("/instructions/1/endLine").asInt()).isEqualTo(5);
    assertThat(json.at("/instructions/1/heredocs/0/content").asText()).isEqualTo("hi\n");
    assertThat(json.at("/instructions/2/trigger/keyword").asText()).isEqualTo("RUN");
  }

  @Test
  void syntaxErrorIsOneLineNamingFileAndLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("Dockerfile");
    Files.writeString(file, "FROM alpine\nRUN [\"a\", 1]\n");

    CliRun run = CliRun.of("parse", "-f", file.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stdout()).isEmpty();
    assertThat(run.stderr())
        .isEqualTo(
            "error: "
                + file
                + ":2: when using JSON array syntax, arrays must be comprised of strings only"
                + System.lineSeparator());
  }

  @Test
  void missingFileIsAUserError(@TempDir Path dir) {
    CliRun run = CliRun.of("parse", "-f", dir.resolve("nope").toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).startsWith("error: cannot read Dockerfile ").contains("no such file");
    assertThat(run.stderr().lines()).hasSize(1);
  }
}
