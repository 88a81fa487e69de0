package dev.stagefarm.dockerfile.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.dockerfile.ConformanceCorpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BuildKit's own shell-lexer test data ({@code buildkit-shell/} in the conformance corpus), read
 * exactly as BuildKit's {@code lex_test.go} reads it; see that folder's README for the formats.
 * One test per case, named by file and line (or case index).
 */
class BuildKitShellConformanceTest {
  private static final ShellLex LEX = new ShellLex('\\');
  private static final String ERROR = "error";

  // ---- envVarTest: ProcessWord, fixed env, A and U lines on Linux ------------------------------

  record EnvVarCase(int line, String platform, String source, String expected) {
    @Override
    public String toString() {
      return "envVarTest:" + line + " " + platform + "|" + source + " -> " + expected;
    }
  }

  static Stream<Arguments> envVarCases() throws IOException {
    List<String> lines = readLines(ConformanceCorpus.shell().resolve("envVarTest"));
    List<Arguments> cases = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String raw = lines.get(i);
      if (raw.startsWith("#")) {
        continue;
      }
      String line = raw.strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] fields = line.split("\\|", -1);
      if (fields.length != 3) {
        throw new IllegalStateException("envVarTest:" + (i + 1) + " has not 3 fields: " + raw);
      }
      String platform = fields[0].strip();
      switch (platform) {
        case "A", "U" -> cases.add(Arguments.of(
            new EnvVarCase(i + 1, platform, fields[1].strip(), fields[2].strip())));
        case "W" -> { } // Windows only: env keys are case-insensitive there
        default -> throw new IllegalStateException(
            "envVarTest:" + (i + 1) + " has an unknown platform tag " + platform);
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("envVarCases")
  void envVarTest(EnvVarCase c) {
    Map<String, String> env = ShellLex.envFromList(
        List.of("PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="));
    if (c.expected().equals(ERROR)) {
      assertThatThrownBy(() -> LEX.processWord(c.source(), env))
          .isInstanceOf(ShellExpansionException.class)
          .hasMessageStartingWith("failed to process ");
    } else {
      assertThat(LEX.processWord(c.source(), env)).isEqualTo(c.expected());
    }
  }

  // ---- wordsTest: ProcessWords, accumulating ENV lines, normal mode only -----------------------

  record WordsCase(int line, String input, List<String> expected, Map<String, String> env) {
    @Override
    public String toString() {
      return "wordsTest:" + line + " " + input + " -> " + expected;
    }
  }

  static Stream<Arguments> wordsCases() throws IOException {
    List<String> lines = readLines(ConformanceCorpus.shell().resolve("wordsTest"));
    List<String> envEntries = new ArrayList<>();
    List<Arguments> cases = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("ENV ")) {
        envEntries.add(line.substring(3).replaceFirst("^ +", ""));
        continue;
      }
      String[] sides = line.split("\\|", -1);
      if (sides.length != 2) {
        throw new IllegalStateException("wordsTest:" + (i + 1) + " needs exactly one |: " + line);
      }
      List<String> expected = Arrays.asList(sides[1].replaceFirst("^ +", "").split(",", -1));
      cases.add(Arguments.of(new WordsCase(
          i + 1, sides[0].strip(), expected, ShellLex.envFromList(List.copyOf(envEntries)))));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wordsCases")
  void wordsTest(WordsCase c) {
    List<String> result;
    try {
      result = LEX.processWords(c.input(), c.env());
    } catch (ShellExpansionException e) {
      result = List.of(ERROR);
    }
    assertThat(result).containsExactlyElementsOf(c.expected());
  }

  // ---- derived/process-with-matches.json: ProcessWordWithMatches --------------------------------

  record JsonCase(String file, int index, JsonNode node) {
    @Override
    public String toString() {
      return file + "#" + index + " " + node.get("input").asText();
    }

    Map<String, String> env() {
      Map<String, String> env = new LinkedHashMap<>();
      node.get("envs").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
      return env;
    }

    Set<String> names(String field) {
      Set<String> names = new TreeSet<>();
      node.get(field).forEach(n -> names.add(n.asText()));
      return names;
    }
  }

  static Stream<Arguments> processWithMatchesCases() throws IOException {
    return jsonCases("process-with-matches.json");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("processWithMatchesCases")
  void processWithMatches(JsonCase c) {
    String input = c.node().get("input").asText();
    if (c.node().get("expectError").asBoolean()) {
      // Upstream does not compare matched/unmatched when an error is expected.
      assertThatThrownBy(() -> LEX.processWordWithMatches(input, c.env()))
          .isInstanceOf(ShellExpansionException.class);
      return;
    }
    ProcessResult result = LEX.processWordWithMatches(input, c.env());
    assertThat(result.result()).isEqualTo(c.node().get("expected").asText());
    assertThat(result.matched()).as("matched").isEqualTo(c.names("matched"));
    assertThat(result.unmatched()).as("unmatched").isEqualTo(c.names("unmatched"));
  }

  // ---- derived/process-word-extra.json: ProcessWord --------------------------------------------

  static Stream<Arguments> processWordExtraCases() throws IOException {
    return jsonCases("process-word-extra.json");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("processWordExtraCases")
  void processWordExtra(JsonCase c) {
    String input = c.node().get("input").asText();
    JsonNode errorContains = c.node().get("expectErrorContains");
    if (errorContains != null) {
      ShellExpansionException error = catchThrowableOfType(
          ShellExpansionException.class, () -> LEX.processWord(input, c.env()));
      assertThat(error).isNotNull();
      assertThat(error.getMessage()).contains(errorContains.asText());
    } else {
      assertThat(LEX.processWord(input, c.env())).isEqualTo(c.node().get("expected").asText());
    }
  }

  // ---- reading the corpus ----------------------------------------------------------------------

  private static Stream<Arguments> jsonCases(String fileName) throws IOException {
    Path file = ConformanceCorpus.shell().resolve("derived").resolve(fileName);
    JsonNode cases = new ObjectMapper().readTree(file.toFile()).get("cases");
    List<Arguments> arguments = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      arguments.add(Arguments.of(new JsonCase(fileName, i, cases.get(i))));
    }
    return arguments.stream();
  }

  /** Lines as Go's bufio.Scanner gives them: split on LF, a trailing CR dropped. */
  private static List<String> readLines(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    lines.replaceAll(line -> line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
    return lines;
  }
}
