package dev.stagefarm.dockerfile.instructions;

/** {@code CMD command} (shell form) or {@code CMD ["exec", "form"]}; never expanded. */
public record CmdInstruction(Origin origin, CommandLine command) implements Instruction {

  @Override
  public CmdInstruction expand(WordExpander expander) {
    return this;
  }
}
