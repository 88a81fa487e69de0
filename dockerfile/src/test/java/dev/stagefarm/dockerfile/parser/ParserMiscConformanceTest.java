package dev.stagefarm.dockerfile.parser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stagefarm.dockerfile.DockerfileException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * derived/parser-misc.json: TestParseWarnsOnEmptyContinutationLine and
 * TestParseReturnsScannerErrors (the line numbers part runs in {@link
 * BuildKitDumpConformanceTest}).
 */
class ParserMiscConformanceTest {

  @Test
  void emptyContinuationLinesWarnOncePerInstruction() {
    JsonNode c = CorpusFiles.json("parser-misc.json").get("emptyContinuationWarnings");

    List<Warning> warnings = DockerfileParser.parse(c.get("dockerfile").asText()).warnings();

    assertThat(warnings).hasSize(c.get("warningsContain").size());
    for (int i = 0; i < warnings.size(); i++) {
      for (JsonNode fragment : c.get("warningsContain").get(i)) {
        assertThat(warnings.get(i).shortMessage()).contains(fragment.asText());
      }
      assertThat(warnings.get(i).detail()).contains(c.get("detailContains").asText());
    }
  }

  @Test
  void lineLongerThanScannerLimitFailsTheParse() {
    JsonNode c = CorpusFiles.json("parser-misc.json").get("scannerLimit");
    String dockerfile = expandPlaceholder(c.get("dockerfile").asText());

    assertThatThrownBy(() -> DockerfileParser.parse(dockerfile))
        .isInstanceOf(DockerfileException.class)
        .extracting(e -> ((DockerfileException) e).problem())
        .isEqualTo("dockerfile line greater than max allowed size of 65535");
  }

  /** The corpus writes the long line as {@code <65536 x 'a'>}. */
  private static String expandPlaceholder(String text) {
    Matcher m = Pattern.compile("<(\\d+) x '(.)'>").matcher(text);
    assertThat(m.find()).as("placeholder in %s", text).isTrue();
    return text.substring(0, m.start()) + m.group(2).repeat(Integer.parseInt(m.group(1)))
        + text.substring(m.end());
  }
}
