package dev.stagefarm.program;

/**
 * Maps programs to and from the wire ({@code stagefarm.v1.StageProgram}, program.proto). Decoding
 * validates what a hostile producer could get wrong: versions, input references, absolute and
 * clean paths, context entry paths.
 */
public final class ProgramCodec {
  private ProgramCodec() {}

  public static dev.stagefarm.proto.v1.StageProgram toProto(StageProgram program) {
    throw new UnsupportedOperationException("in progress");
  }

  public static dev.stagefarm.proto.v1.Op toProto(Op op) {
    throw new UnsupportedOperationException("in progress");
  }

  /** @throws InvalidProgramException naming what is wrong */
  public static StageProgram fromProto(dev.stagefarm.proto.v1.StageProgram proto) throws InvalidProgramException {
    throw new UnsupportedOperationException("in progress");
  }
}
