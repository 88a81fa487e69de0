package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import dev.stagefarm.dockerfile.parser.ParseResult;

/**
 * {@code ONBUILD instruction}: a trigger stored in the image and run by builds that use it as
 * their base (also a later stage {@code FROM} this one).
 *
 * @param expression the trigger as BuildKit stores it in the image config: the instruction text
 *     after {@code ONBUILD}, heredoc bodies appended
 */
public record OnbuildInstruction(Origin origin, String expression) implements Instruction {

  /**
   * Parses the trigger as an instruction of a stage that builds on this one; errors are reported
   * at {@code line} (BuildKit reports them at the FROM of the stage that runs the trigger).
   */
  public Instruction trigger(int line) {
    return parseTrigger(expression, line);
  }

  /**
   * Parses an ONBUILD trigger expression, e.g. one from a base image's config ({@code
   * config.OnBuild}); errors are reported at {@code line}.
   */
  public static Instruction parseTrigger(String expression, int line) {
    try {
      ParseResult parsed = DockerfileParser.parse(expression);
      if (parsed.ast().children().size() != 1) {
        throw new DockerfileException(line, "onbuild trigger should be a single expression");
      }
      return InstructionParser.parseInstruction(parsed.ast().children().get(0));
    } catch (DockerfileException e) {
      throw new DockerfileException(line, e.problem(), e);
    }
  }

  @Override
  public OnbuildInstruction expand(WordExpander expander) {
    return this;
  }
}
