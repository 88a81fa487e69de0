package dev.stagefarm.dockerfile.instructions;

import java.util.ArrayList;
import java.util.List;

/** {@code ARG name[=default] [name[=default]...]}. */
public record ArgInstruction(Origin origin, List<ArgDefinition> args) implements Instruction {

  public ArgInstruction {
    args = List.copyOf(args);
  }

  /**
   * Expands names and defaults. Note that BuildKit resolves an ARG's value from build args, the
   * global scope or its default (only then expanded): use {@link StageScope} to execute ARGs.
   */
  @Override
  public ArgInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    List<ArgDefinition> out = new ArrayList<>();
    for (ArgDefinition a : args) {
      out.add(new ArgDefinition(e.word(a.key()), a.hasDefault() ? e.word(a.defaultValue()) : null));
    }
    return new ArgInstruction(origin, out);
  }
}
