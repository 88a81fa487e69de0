package dev.stagefarm.dockerfile.instructions;

import java.util.List;

/** {@code ENV key=value...} or the legacy {@code ENV key value}. */
public record EnvInstruction(Origin origin, List<KeyValue> pairs) implements Instruction {

  public EnvInstruction {
    pairs = List.copyOf(pairs);
  }

  /**
   * Expands keys and values. Each pair sees only the environment from before this instruction
   * (like BuildKit, which expands the whole ENV first); {@link StageScope} handles the order.
   */
  @Override
  public EnvInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    return new EnvInstruction(origin, pairs.stream().map(p -> p.expand(e)).toList());
  }
}
