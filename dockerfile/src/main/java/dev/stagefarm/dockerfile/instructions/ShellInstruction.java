package dev.stagefarm.dockerfile.instructions;

import java.util.List;

/** {@code SHELL ["executable", "params"...]}: the shell for later shell-form commands. */
public record ShellInstruction(Origin origin, List<String> shell) implements Instruction {

  public ShellInstruction {
    shell = List.copyOf(shell);
  }

  @Override
  public ShellInstruction expand(WordExpander expander) {
    return this;
  }
}
