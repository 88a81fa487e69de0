package dev.stagefarm.program;

import dev.stagefarm.oci.Platform;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One stage, compiled: where it starts, what it reads, and its ops in order.
 *
 * @param version the program format version ({@link #VERSION} when written by this code)
 * @param base what the stage starts from
 * @param inputs the stages and images its ops read besides the base, each once
 * @param ops one per instruction (ONBUILD triggers of a base image first), in order
 * @param platform the platform the stage builds for
 * @param rootKey the cache key the op chain starts from (see {@link CacheKeys})
 * @param sourceDateEpoch {@code SOURCE_DATE_EPOCH}: clamps layer mtimes, dates history
 * @param stageName the stage's name (or index), for logs and the result's origin
 */
public record StageProgram(
    int version,
    ProgramBase base,
    List<ProgramInput> inputs,
    List<Op> ops,
    Platform platform,
    CacheKey rootKey,
    Optional<Instant> sourceDateEpoch,
    String stageName) {

  /** The program format this code writes and understands; bump on a change of meaning. */
  public static final int VERSION = 1;

  public StageProgram {
    inputs = List.copyOf(inputs);
    ops = List.copyOf(ops);
  }

  /** The input with this id. */
  public Optional<ProgramInput> input(String id) {
    return inputs.stream().filter(i -> i.id().equals(id)).findFirst();
  }
}
