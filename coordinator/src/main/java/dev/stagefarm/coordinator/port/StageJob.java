package dev.stagefarm.coordinator.port;

import dev.stagefarm.coordinator.content.StageResult;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One attempt of one stage, as the workers get it.
 *
 * @param stageId unique in the build, e.g. {@code 1-build}
 * @param attempt 1-based; events of older attempts are ignored
 * @param reuseCachedOps whether the worker may take an op's recorded layer instead of running it
 *     (false for {@code --no-cache})
 * @param program the compiled stage, inline or stored in the content store
 * @param base the filesystem and config the program starts from
 * @param inputs the results its program reads, by {@code ProgramInput} id, in program order
 * @param buildSecrets whether the build's client sent secrets (sealed in the store by build id)
 * @param deadline when the stage must be over; {@link Deadline#NONE} for no limit
 * @param internalLayers its layers only feed other stages of the build (not the target image):
 *     workers may store them uncompressed
 * @param cacheScope whose cache mounts the stage uses: the build's owner ("" for cache mounts by id alone)
 * @param trace the coordinator's span of this attempt, for the worker's spans to join; {@link TraceContext#NONE}
 *     when the coordinator does not trace
 */
public record StageJob(
    String buildId,
    String stageId,
    String stageName,
    int attempt,
    boolean reuseCachedOps,
    ProgramRef program,
    StageResult base,
    Map<String, StageResult> inputs,
    boolean buildSecrets,
    Deadline deadline,
    boolean internalLayers,
    String cacheScope,
    TraceContext trace) {

  /**
   * A W3C trace context ({@code traceparent}, {@code tracestate}) as the task carries it.
   *
   * @param parent {@code 00-<trace id>-<span id>-<flags>}, or "" for none
   */
  public record TraceContext(String parent, String state) {
    public static final TraceContext NONE = new TraceContext("", "");

    public TraceContext {
      Objects.requireNonNull(parent, "parent");
      Objects.requireNonNull(state, "state");
    }
  }

  /**
   * @param buildDeadlineEpochMs the build's deadline (epoch ms), 0 for none
   * @param stageTimeoutMs how long one run may take from a worker's start, 0 for no limit
   */
  public record Deadline(long buildDeadlineEpochMs, long stageTimeoutMs) {
    public static final Deadline NONE = new Deadline(0, 0);
  }

  public StageJob {
    Objects.requireNonNull(deadline, "deadline");
    Objects.requireNonNull(program, "program");
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(cacheScope, "cacheScope");
    Objects.requireNonNull(trace, "trace");
    inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
  }

  /** A job the coordinator does not trace. */
  public StageJob(String buildId, String stageId, String stageName, int attempt, boolean reuseCachedOps,
      ProgramRef program, StageResult base, Map<String, StageResult> inputs, boolean buildSecrets, Deadline deadline,
      boolean internalLayers, String cacheScope) {
    this(buildId, stageId, stageName, attempt, reuseCachedOps, program, base, inputs, buildSecrets, deadline,
        internalLayers, cacheScope, TraceContext.NONE);
  }

  /** A job whose cache mounts are by id alone. */
  public StageJob(String buildId, String stageId, String stageName, int attempt, boolean reuseCachedOps,
      ProgramRef program, StageResult base, Map<String, StageResult> inputs, boolean buildSecrets, Deadline deadline,
      boolean internalLayers) {
    this(buildId, stageId, stageName, attempt, reuseCachedOps, program, base, inputs, buildSecrets, deadline,
        internalLayers, "");
  }

  /** A job whose layers may reach the target image (compressed). */
  public StageJob(String buildId, String stageId, String stageName, int attempt, boolean reuseCachedOps,
      ProgramRef program, StageResult base, Map<String, StageResult> inputs, boolean buildSecrets, Deadline deadline) {
    this(buildId, stageId, stageName, attempt, reuseCachedOps, program, base, inputs, buildSecrets, deadline, false);
  }

  /** A job of a build without secrets or deadlines. */
  public StageJob(String buildId, String stageId, String stageName, int attempt, boolean reuseCachedOps,
      ProgramRef program, StageResult base, Map<String, StageResult> inputs) {
    this(buildId, stageId, stageName, attempt, reuseCachedOps, program, base, inputs, false, Deadline.NONE);
  }

  /** A job of a build without deadlines. */
  public StageJob(String buildId, String stageId, String stageName, int attempt, boolean reuseCachedOps,
      ProgramRef program, StageResult base, Map<String, StageResult> inputs, boolean buildSecrets) {
    this(buildId, stageId, stageName, attempt, reuseCachedOps, program, base, inputs, buildSecrets, Deadline.NONE);
  }

  /** A job of a build without secrets. */
  public StageJob(String buildId, String stageId, String stageName, int attempt, boolean reuseCachedOps,
      ProgramRef program, StageResult base, Map<String, StageResult> inputs, Deadline deadline) {
    this(buildId, stageId, stageName, attempt, reuseCachedOps, program, base, inputs, false, deadline);
  }

  public StageJob withProgram(ProgramRef newProgram) {
    return new StageJob(buildId, stageId, stageName, attempt, reuseCachedOps, newProgram, base, inputs, buildSecrets,
        deadline, internalLayers, cacheScope, trace);
  }

  /** This job, its worker's spans joining {@code context}. */
  public StageJob withTrace(TraceContext context) {
    return new StageJob(buildId, stageId, stageName, attempt, reuseCachedOps, program, base, inputs, buildSecrets,
        deadline, internalLayers, cacheScope, context);
  }
}
