package dev.stagefarm.coordinator.port;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.StageProgram;

/** How a task carries its program: in the task itself, or by digest under {@code programs/}. */
public sealed interface ProgramRef {
  /** The platform the program builds for: it decides which workers may take the task. */
  Platform platform();

  record Inline(StageProgram program) implements ProgramRef {
    @Override
    public Platform platform() {
      return program.platform();
    }
  }

  /** The program's serialized bytes are in the content store under this digest. */
  record Stored(Digest digest, Platform platform) implements ProgramRef {}
}
