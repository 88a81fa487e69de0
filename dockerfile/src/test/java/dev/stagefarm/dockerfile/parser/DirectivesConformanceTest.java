package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** BuildKit's directives_test.go (derived/directives.json). */
class DirectivesConformanceTest {

  private static Stream<Arguments> cases(String group) {
    JsonNode all = CorpusFiles.json("directives.json").get(group);
    return StreamSupport.stream(all.spliterator(), false)
        .map(c -> Arguments.of(c.get("input").asText(), c));
  }

  static Stream<Arguments> parseAllCases() {
    return cases("parseAll");
  }

  static Stream<Arguments> detectSyntaxCases() {
    return cases("detectSyntax");
  }

  static Stream<Arguments> parseDirectiveCheckCases() {
    return cases("parseDirectiveCheck");
  }

  @ParameterizedTest(name = "parseAll {0}")
  @MethodSource("parseAllCases")
  void parseAllStopsAtFirstNonDirective(String input, JsonNode c) {
    List<Directive> found = new DirectiveParser().parseAll(input);

    assertThat(found).extracting(Directive::name, Directive::value)
        .containsExactlyElementsOf(StreamSupport.stream(c.get("expected").spliterator(), false)
            .map(e -> org.assertj.core.groups.Tuple.tuple(
                e.get("name").asText(), e.get("value").asText()))
            .toList());
  }

  @ParameterizedTest(name = "detectSyntax {0}")
  @MethodSource("detectSyntaxCases")
  void detectSyntax(String input, JsonNode c) {
    check(DirectiveParser::detectSyntax, input, c);
  }

  @ParameterizedTest(name = "parseDirective(check) {0}")
  @MethodSource("parseDirectiveCheckCases")
  void parseDirectiveCheck(String input, JsonNode c) {
    check(text -> DirectiveParser.parseDirective("check", text), input, c);
  }

  /** Asserts ok, and ref/cmdline/line where the case gives them (as upstream does). */
  private static void check(
      Function<String, Optional<DetectedDirective>> detect, String input, JsonNode c) {
    Optional<DetectedDirective> found = detect.apply(input);
    assertThat(found.isPresent()).as("ok").isEqualTo(c.get("ok").asBoolean());
    if (c.has("ref")) {
      assertThat(found.map(DetectedDirective::ref).orElse("")).isEqualTo(c.get("ref").asText());
    }
    if (c.has("cmdline")) {
      assertThat(found.map(DetectedDirective::cmdline).orElse(""))
          .isEqualTo(c.get("cmdline").asText());
    }
    if (c.has("line")) {
      assertThat(found).hasValueSatisfying(
          d -> assertThat(d.line()).isEqualTo(c.get("line").asInt()));
    }
  }
}
