package dev.stagefarm.dockerfile.instructions;

/** {@code MAINTAINER name} (deprecated; sets the image author). */
public record MaintainerInstruction(Origin origin, String maintainer) implements Instruction {

  @Override
  public MaintainerInstruction expand(WordExpander expander) {
    return this;
  }
}
