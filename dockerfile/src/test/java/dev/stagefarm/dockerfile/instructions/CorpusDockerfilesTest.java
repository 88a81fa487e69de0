package dev.stagefarm.dockerfile.instructions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.ConformanceCorpus;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.StageGraph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The 33 Dockerfiles of BuildKit's parser corpus through the typed-instruction layer and the stage
 * graph. Upstream only parses them; BuildKit's instruction layer rejects the eight listed here (a
 * COPY with unknown flags, a bare HEALTHCHECK, and six files with no FROM), every other one must
 * type and plan.
 */
class CorpusDockerfilesTest {

  private static final Map<String, String> REJECTED =
      Map.of(
          "flags", "line 3: unknown flag: --user",
          "health", "line 4: HEALTHCHECK requires at least one argument",
          "jeztah-invalid-json-json-inside-string", "line 1: no build stage in current context",
          "jeztah-invalid-json-json-inside-string-double",
              "line 1: no build stage in current context",
          "jeztah-invalid-json-single-quotes", "line 1: no build stage in current context",
          "jeztah-invalid-json-unterminated-bracket", "line 1: no build stage in current context",
          "jeztah-invalid-json-unterminated-string", "line 1: no build stage in current context",
          "json", "line 1: no build stage in current context");

  static Stream<String> cases() throws IOException {
    try (Stream<Path> dirs = Files.list(ConformanceCorpus.parser().resolve("testfiles"))) {
      return dirs.map(d -> d.getFileName().toString()).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "testfiles/{0}")
  @MethodSource("cases")
  void typesAndPlansOrFailsLikeBuildKit(String name) throws IOException {
    byte[] dockerfile =
        Files.readAllBytes(
            ConformanceCorpus.parser().resolve("testfiles").resolve(name).resolve("Dockerfile"));

    if (REJECTED.containsKey(name)) {
      assertThatThrownBy(() -> Dockerfiles.parse(dockerfile))
          .isInstanceOf(DockerfileException.class)
          .hasMessage(REJECTED.get(name));
      return;
    }
    DockerfileModel model = Dockerfiles.parse(dockerfile);
    BuildPlan plan = StageGraph.plan(model, BuildOptions.defaults());
    assertThat(plan.runStages()).isNotEmpty();
    assertThat(plan.target().instructions()).isEqualTo(model.stages().getLast().instructions());
  }
}
