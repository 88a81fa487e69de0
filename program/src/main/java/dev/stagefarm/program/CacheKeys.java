package dev.stagefarm.program;

import dev.stagefarm.oci.Platform;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Cache keys of programs and their ops (program.proto has the derivation). */
public final class CacheKeys {
  private CacheKeys() {}

  /** The root of a stage on a pinned image. */
  public static CacheKey imageRoot(String manifestDigest, Platform platform, Optional<Instant> sourceDateEpoch) {
    throw new UnsupportedOperationException("in progress");
  }

  /** The root of a {@code FROM scratch} stage. */
  public static CacheKey scratchRoot(Platform platform, Optional<Instant> sourceDateEpoch) {
    throw new UnsupportedOperationException("in progress");
  }

  /** The key of {@code op} after {@code parent}; {@code inputs} are the program's (the op's own are picked). */
  public static CacheKey next(CacheKey parent, Op op, List<ProgramInput> inputs) {
    throw new UnsupportedOperationException("in progress");
  }

  /** The key after each op of the program, in order. */
  public static List<CacheKey> chain(StageProgram program) {
    throw new UnsupportedOperationException("in progress");
  }
}
