package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** BuildKit's parser_test.go TestParseWords (derived/parse-words.json). */
class ParseWordsConformanceTest {

  static Stream<Arguments> cases() {
    JsonNode cases = CorpusFiles.json("parse-words.json").get("cases");
    return StreamSupport.stream(cases.spliterator(), false)
        .map(c -> Arguments.of(c.get("input").asText(), CorpusFiles.strings(c.get("expected"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void splitsKeepingQuotesAndEscapes(String input, List<String> expected) {
    assertThat(ArgumentParsers.parseWords(input, '\\')).isEqualTo(expected);
  }
}
