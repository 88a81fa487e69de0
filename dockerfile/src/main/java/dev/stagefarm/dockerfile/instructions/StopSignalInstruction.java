package dev.stagefarm.dockerfile.instructions;

/** {@code STOPSIGNAL signal}, e.g. {@code SIGTERM} or {@code 9}. */
public record StopSignalInstruction(Origin origin, String signal) implements Instruction {

  @Override
  public StopSignalInstruction expand(WordExpander expander) {
    return new StopSignalInstruction(origin, expander.at(origin).word(signal));
  }
}
