package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON reader accepts exactly what Go's encoding/json accepts. */
class GoJsonTest {

  @Test
  void readsStringsArraysAndObjects() throws Exception {
    assertThat(GoJson.parse(" [\"a\", [1, true, null], {\"k\": \"v\"}] "))
        .isEqualTo(List.of("a", List.of(GoJson.NUMBER, true, GoJson.NULL), Map.of("k", "v")));
  }

  @Test
  void rejectsWhatGoRejects() {
    for (String bad : List.of("[01]", "[1.]", "[.5]", "[+1]", "[1,]", "{\"a\":1,}", "[\"a\"] x",
        "[\"\t\"]", "['a']", "[\"a\\x\"]", "[tru]", "[\"a\"", "", "[\"\\u12\"]")) {
      assertThatThrownBy(() -> GoJson.parse(bad)).as(bad).isInstanceOf(GoJson.SyntaxException.class);
    }
  }

  @Test
  void acceptsNumbersGoAccepts() throws Exception {
    assertThat(GoJson.parse("[-0, 0.5, 1e5, 2E-3, 10]")).isEqualTo(List.of(
        GoJson.NUMBER, GoJson.NUMBER, GoJson.NUMBER, GoJson.NUMBER, GoJson.NUMBER));
  }

  @Test
  void decodesEscapesAndSurrogatesLikeGo() throws Exception {
    assertThat(GoJson.parse("[\"\\ud83d\\ude00\", \"\\ud800x\", \"\\/\"]"))
        .isEqualTo(List.of("😀", "\uFFFDx", "/"));
  }

  @Test
  void nestingDepthIsLimitedLikeGoWithoutStackOverflow() throws Exception {
    int max = GoJson.MAX_DEPTH;
    assertThat(GoJson.parse("[".repeat(max) + "]".repeat(max))).isInstanceOf(List.class);
    assertThatThrownBy(() -> GoJson.parse("[".repeat(max + 1) + "]".repeat(max + 1)))
        .isInstanceOf(GoJson.SyntaxException.class)
        .hasMessageContaining("exceeded max depth");
    assertThatThrownBy(() -> GoJson.parse("[".repeat(200_000)))
        .isInstanceOf(GoJson.SyntaxException.class);
  }

  @Test
  void deeplyNestedRunIsShellFormBeyondGosDepth() {
    String deep = "[".repeat(GoJson.MAX_DEPTH + 1) + "]".repeat(GoJson.MAX_DEPTH + 1);

    Node run = DockerfileParser.parse("RUN \\\n" + deep + "\n").ast().children().get(0);

    assertThat(run.isJson()).isFalse();
    assertThat(run.values()).containsExactly(deep);
  }
}
