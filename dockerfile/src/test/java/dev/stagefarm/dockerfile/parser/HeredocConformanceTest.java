package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BuildKit's parser_heredoc_test.go: TestParseExtractsHeredoc (derived/heredoc-extract),
 * TestParseJSONHeredoc (derived/heredoc-json-form), TestParseHeredocHelpers,
 * TestHeredocsFromLine and TestHeredocChomp (derived/heredoc-helpers.json).
 */
class HeredocConformanceTest {

  static Stream<Arguments> extractCases() {
    return childCases("heredoc-extract");
  }

  static Stream<Arguments> jsonFormCases() {
    return childCases("heredoc-json-form");
  }

  private static Stream<Arguments> childCases(String folder) {
    byte[] dockerfile = CorpusFiles.bytes(CorpusFiles.parserDir("derived", folder, "Dockerfile"));
    JsonNode expected = CorpusFiles.json(folder + "/expected.json").get("expected");
    Node root = DockerfileParser.parse(dockerfile).ast();
    return StreamSupport.stream(expected.spliterator(), false)
        .map(e -> {
          int index = e.get("childIndex").asInt();
          Node child = index < root.children().size() ? root.children().get(index) : null;
          return Arguments.of(index, child, e.get("heredocs"));
        });
  }

  @ParameterizedTest(name = "heredoc-extract child {0}")
  @MethodSource("extractCases")
  void extractsHeredocs(int index, Node child, JsonNode heredocs) {
    assertThat(child).as("instruction %d exists", index).isNotNull();
    assertThat(child.heredocs()).isEqualTo(expectedHeredocs(heredocs));
  }

  @ParameterizedTest(name = "heredoc-json-form child {0}")
  @MethodSource("jsonFormCases")
  void jsonFormHasNoHeredocs(int index, Node child, JsonNode heredocs) {
    assertThat(child).as("instruction %d exists", index).isNotNull();
    assertThat(child.isJson()).isTrue();
    assertThat(child.heredocs()).isEqualTo(expectedHeredocs(heredocs));
  }

  private static List<Heredoc> expectedHeredocs(JsonNode heredocs) {
    List<Heredoc> out = new ArrayList<>();
    if (heredocs != null && !heredocs.isNull()) {
      for (JsonNode h : heredocs) {
        out.add(new Heredoc(h.get("name").asText(), h.get("content").asText(),
            h.get("expand").asBoolean(), h.get("chomp").asBoolean(),
            h.get("fileDescriptor").asInt()));
      }
    }
    return out;
  }

  private static JsonNode helpers() {
    return CorpusFiles.json("heredoc-helpers.json");
  }

  static Stream<String> validWords() {
    return CorpusFiles.strings(helpers().get("parseHeredocWord").get("valid")).stream();
  }

  static Stream<String> invalidWords() {
    return CorpusFiles.strings(helpers().get("parseHeredocWord").get("invalid")).stream();
  }

  static Stream<String> notHeredocWords() {
    return CorpusFiles.strings(helpers().get("parseHeredocWord").get("notHeredoc")).stream();
  }

  @ParameterizedTest(name = "valid heredoc word [{0}]")
  @MethodSource("validWords")
  void validHeredocWordIsNamedEof(String word) throws Exception {
    assertThat(Heredocs.parse(word)).hasValueSatisfying(h -> assertThat(h.name()).isEqualTo("EOF"));
  }

  @ParameterizedTest(name = "invalid heredoc word [{0}]")
  @MethodSource("invalidWords")
  void invalidHeredocWordIsAnError(String word) {
    assertThatThrownBy(() -> Heredocs.parse(word))
        .isInstanceOf(Heredocs.InvalidHeredocException.class)
        .hasMessageContaining("unexpected end of statement");
  }

  @ParameterizedTest(name = "not a heredoc word [{0}]")
  @MethodSource("notHeredocWords")
  void otherWordIsNoHeredocAndNoError(String word) throws Exception {
    assertThat(Heredocs.parse(word)).isEmpty();
  }

  static Stream<Arguments> fromLineCases() {
    return StreamSupport.stream(helpers().get("heredocsFromLine").get("cases").spliterator(), false)
        .map(c -> Arguments.of(c.get("line").asText(), CorpusFiles.strings(c.get("names"))));
  }

  /**
   * Upstream compares names only at the indexes heredocsFromLine returned, so a shorter result
   * passes there. BuildKit really returns fewer for {@code RUN <<- EOF}: its lexer keeps the
   * blanks after {@code <<}, not after {@code <<-}, so the words are {@code <<-} and {@code EOF},
   * neither a heredoc. We assert the same relation as upstream: a prefix of the listed names.
   */
  @ParameterizedTest(name = "heredocsFromLine [{0}]")
  @MethodSource("fromLineCases")
  void heredocsFromLineNamesInOrder(String line, List<String> names) throws Exception {
    List<String> found = Heredocs.fromLine(line).stream().map(Heredoc::name).toList();

    assertThat(found.size()).isLessThanOrEqualTo(names.size());
    assertThat(found).isEqualTo(names.subList(0, found.size()));
  }

  @Test
  void heredocsFromLineReturnsAllNamesWhereBuildKitDoes() throws Exception {
    // The strict form of the cases above for every line but "RUN <<- EOF" (see there).
    for (Arguments a : fromLineCases().toList()) {
      String line = (String) a.get()[0];
      @SuppressWarnings("unchecked")
      List<String> names = (List<String>) a.get()[1];
      List<String> expected = line.equals("RUN <<- EOF") ? List.of() : names;
      assertThat(Heredocs.fromLine(line).stream().map(Heredoc::name).toList())
          .as(line).isEqualTo(expected);
    }
  }

  @Test
  void chompRemovesLeadingTabsOfEveryLine() {
    for (JsonNode c : helpers().get("chomp").get("cases")) {
      assertThat(Heredocs.chomp(c.get("input").asText())).isEqualTo(c.get("expected").asText());
    }
  }
}
