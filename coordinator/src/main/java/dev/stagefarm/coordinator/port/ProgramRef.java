package dev.stagefarm.coordinator.port;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.StageProgram;

/** How a task carries its program: in the task itself, or by digest under {@code programs/}. */
public sealed interface ProgramRef {
  /** The platform the program builds for: it decides which workers may take the task. */
  Platform platform();

  /** The program's format version ({@link StageProgram#version()}): workers that do not know it hand the task back. */
  int version();

  record Inline(StageProgram program) implements ProgramRef {
    @Override
    public Platform platform() {
      return program.platform();
    }

    @Override
    public int version() {
      return program.version();
    }
  }

  /** The program's serialized bytes are in the content store under this digest. */
  record Stored(Digest digest, Platform platform, int version) implements ProgramRef {}
}
