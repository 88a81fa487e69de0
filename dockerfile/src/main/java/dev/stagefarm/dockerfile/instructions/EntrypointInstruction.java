package dev.stagefarm.dockerfile.instructions;

/**
 * {@code ENTRYPOINT command} or {@code ENTRYPOINT ["exec", "form"]}; never expanded. An empty
 * exec form ({@code ENTRYPOINT []}) has an empty argument list.
 */
public record EntrypointInstruction(Origin origin, CommandLine command) implements Instruction {

  @Override
  public EntrypointInstruction expand(WordExpander expander) {
    return this;
  }
}
