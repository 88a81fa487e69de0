package dev.stagefarm.bake.hcl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HclParserTest {

  @Test
  void readsBlocksLabelsAttributesAndComments() {
    Body body = HclParser.parse("f.hcl", """
        # a comment
        // another
        /* and a
           block comment */
        target "app" {
          tags = [
            "a", # trailing comment
            "b",
          ]
          no-cache = true
        }
        group default { targets = ["app"] }
        """);

    assertThat(body.blocks()).hasSize(2);
    Body.Block target = body.blocks().get(0);
    assertThat(target.type()).isEqualTo("target");
    assertThat(target.labels()).containsExactly("app");
    assertThat(target.body().attributes()).extracting(Body.Attribute::name).containsExactly("tags", "no-cache");
    assertThat(target.body().attributes().get(1).pos()).isEqualTo(new Pos("f.hcl", 10, 3));
    assertThat(body.blocks().get(1).labels()).containsExactly("default");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "`target \"a\" {\n  tags = [\"x\"\n}\n` | f.hcl:3:1: expected \",\" or \"]\", found \"}\"",
      "`target \"a\" {\n  context = \"unclosed\n}\n` | f.hcl:2:13: string is not closed before the end of the line",
      "`target \"a\" {\n  x = 1 +\n}\n` | f.hcl:2:10: expected an expression, found newline",
      "`target \"a\" {\n  a = 1\n  a = 2\n}\n` | f.hcl:3:3: attribute \"a\" is set twice in this block (first at f.hcl:2:3)",
      "`target \"a\" {\n  a = \"%{if true}x%{endif}\"\n}\n` | f.hcl:2:8: template directives",
      "`target \"a\" {\n  a = \"\\q\"\n}\n` | f.hcl:2:8: unknown escape \\q",
      "`target \"a\" {\n  a = <<EOT\nno end\n` | f.hcl:2:7: heredoc <<EOT is not closed",
      "`target \"a\" {\n` | f.hcl:2:1: expected \"}\" closing the target block opened at f.hcl:1:1",
      "`x = 1 @ 2\n` | f.hcl:1:7: unexpected character '@'",
      "`target \"a\" \"${x}\" {}\n` | f.hcl:1:12: a block label cannot contain ${…} interpolation",
  })
  void errorsNameFileLineAndColumn(String source, String message) {
    assertThatThrownBy(() -> HclParser.parse("f.hcl", source))
        .isInstanceOf(HclException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void deeplyNestedExpressionsAreRefusedNotAStackOverflow() {
    String deep = "x = " + "[".repeat(10_000) + "]".repeat(10_000) + "\n";

    assertThatThrownBy(() -> HclParser.parse("f.hcl", deep))
        .isInstanceOf(HclException.class)
        .hasMessageContaining("nested too deeply (more than " + HclParser.MAX_DEPTH + " levels)");
  }

  @Test
  void deeplyNestedInterpolationsAreRefused() {
    String deep = "x = " + "\"${".repeat(5_000) + "1" + "}\"".repeat(5_000) + "\n";

    assertThatThrownBy(() -> HclParser.parse("f.hcl", deep)).hasMessageContaining("nested too deeply");
  }

  @Test
  void deeplyNestedBlocksAreRefused() {
    String deep = "a {\n".repeat(1_000) + "}\n".repeat(1_000);

    assertThatThrownBy(() -> HclParser.parse("f.hcl", deep)).hasMessageContaining("nested too deeply");
  }

  @Test
  void deeplyNestedUnaryOperatorsAreRefused() {
    assertThatThrownBy(() -> HclParser.parse("f.hcl", "x = " + "!".repeat(100_000) + "true\n"))
        .hasMessageContaining("nested too deeply");
  }
}
