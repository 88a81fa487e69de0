package dev.stagefarm.dockerfile.instructions;

import java.util.List;

/** {@code VOLUME path...} or {@code VOLUME ["path", ...]}. */
public record VolumeInstruction(Origin origin, List<String> volumes) implements Instruction {

  public VolumeInstruction {
    volumes = List.copyOf(volumes);
  }

  /**
   * Expands each path.
   *
   * @throws dev.stagefarm.dockerfile.DockerfileException when a path expands to nothing
   */
  @Override
  public VolumeInstruction expand(WordExpander expander) {
    List<String> out = expander.at(origin).eachWord(volumes);
    if (out.contains("")) {
      throw new dev.stagefarm.dockerfile.DockerfileException(
          origin.line(), "VOLUME specified can not be an empty string");
    }
    return new VolumeInstruction(origin, out);
  }
}
