package dev.stagefarm.dockerfile.instructions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.dockerfile.ConformanceCorpus;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BuildKit's instruction-level tests (instructions/parse_test.go, parse_heredoc_test.go) as
 * transcribed in {@code buildkit-parser/derived/instructions-cases.json}: one test per case.
 */
class InstructionsConformanceTest {

  private static JsonNode cases() {
    try {
      return new ObjectMapper()
          .readTree(
              ConformanceCorpus.parser()
                  .resolve("derived")
                  .resolve("instructions-cases.json")
                  .toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Instruction parseOne(String dockerfile) {
    return InstructionParser.parseInstruction(
        DockerfileParser.parse(dockerfile).ast().children().get(0));
  }

  private static Stream<JsonNode> elements(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false);
  }

  private static List<String> strings(JsonNode array) {
    return elements(array).map(JsonNode::asText).toList();
  }

  static Stream<Arguments> copyCases() {
    return elements(cases().get("copy")).map(c -> Arguments.of(c.get("dockerfile").asText(), c));
  }

  @ParameterizedTest(name = "copy: {0}")
  @MethodSource("copyCases")
  void copyHeredocCase(String dockerfile, JsonNode testCase) {
    JsonNode expected = testCase.get("expected");

    CopyInstruction copy = (CopyInstruction) parseOne(dockerfile);

    assertThat(copy.files().destPath()).isEqualTo(expected.get("destPath").asText());
    assertThat(copy.files().sourcePaths()).isEqualTo(strings(expected.get("sourcePaths")));
    List<SourceContent> contents =
        elements(expected.get("sourceContents"))
            .map(
                c ->
                    new SourceContent(
                        c.get("path").asText(), c.get("data").asText(), c.get("expand").asBoolean()))
            .toList();
    assertThat(copy.files().sourceContents()).isEqualTo(contents);
  }

  static Stream<Arguments> runCases() {
    return elements(cases().get("run")).map(c -> Arguments.of(c.get("dockerfile").asText(), c));
  }

  @ParameterizedTest(name = "run: {0}")
  @MethodSource("runCases")
  void runHeredocCase(String dockerfile, JsonNode expected) {
    RunInstruction run = (RunInstruction) parseOne(dockerfile);

    assertThat(run.command().prependShell()).isEqualTo(expected.get("prependShell").asBoolean());
    assertThat(run.command().args()).isEqualTo(strings(expected.get("cmdLine")));
    List<InlineFile> files =
        elements(expected.get("files"))
            .map(
                f ->
                    new InlineFile(
                        f.get("name").asText(), f.get("data").asText(), f.get("chomp").asBoolean()))
            .toList();
    assertThat(run.command().files()).isEqualTo(files);
  }

  static Stream<Arguments> errorCases() {
    return elements(cases().get("errors"))
        .map(
            c ->
                Arguments.of(
                    c.get("name").asText(),
                    c.get("dockerfile").asText(),
                    c.get("errorContains").asText()));
  }

  @ParameterizedTest(name = "error: {0}: {1}")
  @MethodSource("errorCases")
  void errorCase(String name, String dockerfile, String errorContains) {
    assertThatThrownBy(() -> parseOne(dockerfile))
        .isInstanceOf(DockerfileException.class)
        .hasMessageContaining(errorContains)
        .satisfies(e -> assertThat(((DockerfileException) e).line()).isEqualTo(1));
  }

  static Stream<Arguments> argumentCountCases() {
    JsonNode groups = cases().get("argumentCountErrors");
    List<Arguments> out = new ArrayList<>();
    for (String group : List.of("exactlyOne", "atLeastOne", "noDestination")) {
      JsonNode g = groups.get(group);
      for (String command : strings(g.get("commands"))) {
        String dockerfile = group.equals("noDestination") ? command + " arg1" : command;
        out.add(
            Arguments.of(
                group, dockerfile, g.get("message").asText().replace("<CMD>", command)));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("argumentCountCases")
  void argumentCountCase(String group, String dockerfile, String message) {
    assertThatThrownBy(() -> parseOne(dockerfile))
        .isInstanceOf(DockerfileException.class)
        .extracting(e -> ((DockerfileException) e).problem())
        .isEqualTo(message);
  }
}
