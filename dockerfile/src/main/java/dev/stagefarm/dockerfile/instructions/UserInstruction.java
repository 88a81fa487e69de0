package dev.stagefarm.dockerfile.instructions;

/** {@code USER user[:group]}. */
public record UserInstruction(Origin origin, String user) implements Instruction {

  @Override
  public UserInstruction expand(WordExpander expander) {
    return new UserInstruction(origin, expander.at(origin).word(user));
  }
}
