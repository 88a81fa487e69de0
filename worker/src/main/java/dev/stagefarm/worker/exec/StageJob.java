package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.program.StageProgram;
import java.util.Map;

/**
 * One stage to execute, decoded from its task: the program, the state it starts from and the
 * results of the stages and images its ops read.
 *
 * @param inputs by {@link dev.stagefarm.program.ProgramInput#id()}; one for every input of the program
 * @param reuseCachedOps whether an op whose key has a cache record is taken from it instead of executed
 * @param secrets the secrets the build's client sent (for secret mounts, and masked in RUN output)
 * @param layerCompression how the layers this stage makes are stored: {@link Compression#GZIP} when
 *     they may reach the target image, {@link Compression#NONE} when they only feed other stages
 * @param cacheScope whose cache mounts the stage uses (the build's owner); "" for cache mounts by id alone
 */
public record StageJob(StageProgram program, StageState base, Map<String, StageState> inputs,
    boolean reuseCachedOps, BuildSecrets secrets, Compression layerCompression, String cacheScope) {
  public StageJob {
    inputs = Map.copyOf(inputs);
    java.util.Objects.requireNonNull(layerCompression, "layerCompression");
    java.util.Objects.requireNonNull(cacheScope, "cacheScope");
  }

  /** A stage whose cache mounts are by id alone (an older coordinator's task, tests). */
  public StageJob(StageProgram program, StageState base, Map<String, StageState> inputs, boolean reuseCachedOps,
      BuildSecrets secrets, Compression layerCompression) {
    this(program, base, inputs, reuseCachedOps, secrets, layerCompression, "");
  }

  /** A stage whose layers may leave the farm (gzip). */
  public StageJob(StageProgram program, StageState base, Map<String, StageState> inputs, boolean reuseCachedOps,
      BuildSecrets secrets) {
    this(program, base, inputs, reuseCachedOps, secrets, Compression.GZIP);
  }

  /** A stage of a build without secrets. */
  public StageJob(StageProgram program, StageState base, Map<String, StageState> inputs, boolean reuseCachedOps) {
    this(program, base, inputs, reuseCachedOps, BuildSecrets.NONE);
  }
}
