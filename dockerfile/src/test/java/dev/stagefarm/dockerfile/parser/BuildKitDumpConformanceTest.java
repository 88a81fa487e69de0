package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stagefarm.dockerfile.DockerfileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BuildKit's parser_test.go data: TestParseCases (testfiles/), TestParseErrorCases
 * (testfiles-negative/) and TestParseIncludesLineNumbers (testfile-line/).
 */
class BuildKitDumpConformanceTest {

  static Stream<Arguments> dumpCases() {
    return CorpusFiles.caseDirs("testfiles").map(d -> Arguments.of(d.getFileName().toString(), d));
  }

  @ParameterizedTest(name = "testfiles/{0}")
  @MethodSource("dumpCases")
  void dumpMatchesResultFile(String name, Path dir) {
    byte[] dockerfile = CorpusFiles.bytes(dir.resolve("Dockerfile"));
    String expected = new String(CorpusFiles.bytes(dir.resolve("result")), StandardCharsets.UTF_8);

    ParseResult result = DockerfileParser.parse(dockerfile);

    assertThat(result.ast().dump() + "\n").isEqualTo(expected);
  }

  static Stream<Arguments> negativeCases() {
    return CorpusFiles.caseDirs("testfiles-negative")
        .map(d -> Arguments.of(d.getFileName().toString(), d));
  }

  /** The messages BuildKit gives for these cases (upstream only checks that parsing fails). */
  private static String expectedProblem(String name) {
    return switch (name) {
      case "empty_dockerfile", "only_comments" -> "file with no instructions";
      case "env_no_value" -> "ENV must have two arguments";
      case "shykes-nested-json" ->
          "when using JSON array syntax, arrays must be comprised of strings only";
      default -> throw new IllegalArgumentException("new negative case " + name);
    };
  }

  @ParameterizedTest(name = "testfiles-negative/{0}")
  @MethodSource("negativeCases")
  void negativeCaseFailsWithBuildKitsMessage(String name, Path dir) {
    byte[] dockerfile = CorpusFiles.bytes(dir.resolve("Dockerfile"));

    assertThatThrownBy(() -> DockerfileParser.parse(dockerfile))
        .isInstanceOf(DockerfileException.class)
        .extracting(e -> ((DockerfileException) e).problem())
        .isEqualTo(expectedProblem(name));
  }

  @Test
  void lineNumbersOfTestfileLine() {
    JsonNode expected = CorpusFiles.json("parser-misc.json").get("lineNumbers");
    byte[] dockerfile = CorpusFiles.bytes(CorpusFiles.parserDir("testfile-line", "Dockerfile"));

    Node root = DockerfileParser.parse(dockerfile).ast();

    assertThat(List.of(root.startLine(), root.endLine()))
        .isEqualTo(List.of(expected.get("root").get(0).asInt(), expected.get("root").get(1).asInt()));
    assertThat(root.children()).hasSize(expected.get("children").size());
    for (int i = 0; i < root.children().size(); i++) {
      JsonNode range = expected.get("children").get(i);
      Node child = root.children().get(i);
      assertThat(List.of(child.startLine(), child.endLine()))
          .as("instruction %d (%s)", i, child.dump())
          .isEqualTo(List.of(range.get(0).asInt(), range.get(1).asInt()));
    }
  }
}
