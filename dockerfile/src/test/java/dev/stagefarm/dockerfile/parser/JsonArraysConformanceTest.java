package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** BuildKit's json_test.go TestJSONArraysOfStrings (derived/json-arrays.json). */
class JsonArraysConformanceTest {

  static Stream<Arguments> validCases() {
    JsonNode valid = CorpusFiles.json("json-arrays.json").get("valid");
    return StreamSupport.stream(valid.spliterator(), false)
        .map(c -> Arguments.of(c.get("input").asText(), CorpusFiles.strings(c.get("expected"))));
  }

  static Stream<String> invalidCases() {
    return CorpusFiles.strings(CorpusFiles.json("json-arrays.json").get("invalidNotStrings"))
        .stream();
  }

  @ParameterizedTest(name = "valid {0}")
  @MethodSource("validCases")
  void decodesArrayOfStrings(String input, List<String> expected) throws Exception {
    assertThat(ArgumentParsers.jsonStrings(input)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "valid as RUN {0}")
  @MethodSource("validCases")
  void runInExecFormHasTheStringsAsArguments(String input, List<String> expected) {
    Node run = DockerfileParser.parse("RUN " + input).ast().children().get(0);

    assertThat(run.isJson()).isTrue();
    assertThat(run.values()).isEqualTo(expected);
  }

  @ParameterizedTest(name = "not strings {0}")
  @MethodSource("invalidCases")
  void nonStringElementIsAnError(String input) {
    assertThatThrownBy(() -> ArgumentParsers.jsonStrings(input))
        .isInstanceOf(SyntaxProblem.class)
        .hasMessage("when using JSON array syntax, arrays must be comprised of strings only");
  }

  @ParameterizedTest(name = "not strings as CMD on line 2 {0}")
  @MethodSource("invalidCases")
  void nonStringElementFailsTheParseAtItsLine(String input) {
    assertThatThrownBy(() -> DockerfileParser.parse("FROM scratch\nCMD " + input))
        .hasMessage("line 2: when using JSON array syntax, arrays must be comprised of strings only");
  }
}
