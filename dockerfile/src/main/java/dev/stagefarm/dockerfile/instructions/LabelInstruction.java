package dev.stagefarm.dockerfile.instructions;

import java.util.List;

/** {@code LABEL key=value...} or the legacy {@code LABEL key value}. */
public record LabelInstruction(Origin origin, List<KeyValue> labels) implements Instruction {

  public LabelInstruction {
    labels = List.copyOf(labels);
  }

  /** Expands keys and values. */
  @Override
  public LabelInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    return new LabelInstruction(origin, labels.stream().map(p -> p.expand(e)).toList());
  }
}
