package dev.stagefarm.coordinator.port;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.program.StageProgram;

/** How a task carries its program: in the task itself, or by digest under {@code programs/}. */
public sealed interface ProgramRef {
  record Inline(StageProgram program) implements ProgramRef {}

  /** The program's serialized bytes are in the content store under this digest. */
  record Stored(Digest digest) implements ProgramRef {}
}
