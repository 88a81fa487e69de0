package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GraphCommandTest {

  private static final Path EXAMPLE = Path.of("..", "examples", "multistage-client-server", "Dockerfile");

  private static JsonNode json(CliRun run) throws IOException {
    assertThat(run.stderr()).isEmpty();
    assertThat(run.exitCode()).isZero();
    return new ObjectMapper().readTree(run.stdout());
  }

  private static List<String> names(JsonNode json, String status) {
    List<String> names = new ArrayList<>();
    for (JsonNode stage : json.get("stages")) {
      if (stage.get("status").asText().equals(status)) {
        names.add(stage.get("name").asText());
      }
    }
    return names;
  }

  @Test
  void exampleWithTargetClientRunsBaseBuildClientAndClientOnly() throws IOException {
    JsonNode json =
        json(CliRun.of("graph", "-f", EXAMPLE.toString(), "--target", "client", "--format", "json"));

    assertThat(json.get("target").asText()).isEqualTo("client");
    assertThat(names(json, "run")).containsExactly("base", "build-client", "client");
    assertThat(names(json, "skipped")).containsExactly("build-server", "server");
    JsonNode client = json.get("stages").get(3);
    assertThat(client.get("index").asInt()).isEqualTo(3);
    assertThat(client.get("dependsOn").toString()).isEqualTo("[\"build-client\"]");
    JsonNode buildClient = json.get("stages").get(1);
    assertThat(buildClient.get("base").asText()).isEqualTo("base");
  }

  @Test
  void jsonNamesUnnamedStagesByIndex(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("Dockerfile");
    Files.writeString(file, "ARG V=3.20\nFROM alpine:${V}\nFROM scratch\nCOPY --from=0 /a /a\n");

    JsonNode json = json(CliRun.of("graph", "-f", file.toString(), "--format", "json",
        "--build-arg", "V=edge"));

    assertThat(json.get("target").asInt()).isEqualTo(1);
    assertThat(json.get("stages").get(0).get("name").isNull()).isTrue();
    assertThat(json.get("stages").get(0).get("base").asText()).isEqualTo("alpine:edge");
    assertThat(json.get("stages").get(1).get("base").asText()).isEqualTo("scratch");
    assertThat(json.get("stages").get(1).get("dependsOn").toString()).isEqualTo("[0]");
  }

  @Test
  void textShowsReadinessOrderAndSkippedStages() {
    CliRun run = CliRun.of("graph", "-f", EXAMPLE.toString(), "--target", "client");

    assertThat(run.exitCode()).isZero();
    assertThat(run.stdout())
        .contains("target client")
        .contains("  1. base\n  2. build-client\n  3. client\n")
        .containsPattern("#2 +build-server +skipped")
        .containsPattern("#3 +client +run +FROM scratch; COPY --from build-client");
  }

  @Test
  void dotDrawsEdgesFromDependencies() {
    CliRun run = CliRun.of("graph", "-f", EXAMPLE.toString(), "--format", "dot");

    assertThat(run.exitCode()).isZero();
    assertThat(run.stdout())
        .startsWith("digraph stages {")
        .contains("s0 -> s1 [label=\"FROM\"]")
        .contains("s1 -> s3 [label=\"COPY --from\"]")
        .contains("s3 [label=\"3: client\", style=dashed");
  }

  @Test
  void badDockerfileGivesOneErrorLineWithoutStackTrace(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("Dockerfile");
    Files.writeString(file, "FROM alpine\nRUN true\n\nFRM busybox\n");

    CliRun run = CliRun.of("graph", "-f", file.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stdout()).isEmpty();
    assertThat(run.stderr())
        .isEqualTo("error: " + file + ":4: unknown instruction: FRM" + System.lineSeparator());
  }

  @Test
  void unknownTargetAndCyclesAreErrors(@TempDir Path dir) throws IOException {
    CliRun unknown = CliRun.of("graph", "-f", EXAMPLE.toString(), "--target", "nope");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.stderr())
        .isEqualTo("error: " + EXAMPLE + ": target stage \"nope\" could not be found"
            + System.lineSeparator());

    Path file = dir.resolve("Dockerfile");
    Files.writeString(file, "FROM busybox AS a\nCOPY --from=a x y\n");
    CliRun cycle = CliRun.of("graph", "-f", file.toString());
    assertThat(cycle.exitCode()).isEqualTo(1);
    assertThat(cycle.stderr())
        .isEqualTo("error: " + file + ":2: circular dependency detected on stage: a"
            + System.lineSeparator());
  }

  @Test
  void badPlatformIsAUserError() {
    CliRun run = CliRun.of("graph", "-f", EXAMPLE.toString(), "--platform", "linux");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).startsWith("error: invalid --platform: ");
  }

  @Test
  void parserWarningsGoToStderr(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("Dockerfile");
    Files.writeString(file, "FROM alpine\nRUN echo a \\\n\n  b\n");

    CliRun run = CliRun.of("graph", "-f", file.toString(), "--format", "json");

    assertThat(run.exitCode()).isZero();
    assertThat(run.stderr()).startsWith("warning: " + file + ":2: Empty continuation line");
  }
}
