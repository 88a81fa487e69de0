package dev.stagefarm.dockerfile.instructions;

/** {@code WORKDIR path}: relative paths are resolved against the previous working directory. */
public record WorkdirInstruction(Origin origin, String path) implements Instruction {

  @Override
  public WorkdirInstruction expand(WordExpander expander) {
    return new WorkdirInstruction(origin, expander.at(origin).word(path));
  }
}
