package dev.stagefarm.coordinator.trace;

import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.schedule.StageSnapshot;
import dev.stagefarm.coordinator.schedule.StageState;
import dev.stagefarm.proto.v1.BuildState;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The coordinator's spans (docs/operations.md, "Traces"): one {@code build} span from the client's
 * request to the build's end, with a {@code planning} child, and per stage attempt a {@code stage}
 * span from its dispatch to its end with {@code stage.queue} (dispatch → a worker started it) and
 * {@code stage.run} (started → finished) children; a stage cached as a whole is a {@code stage} span
 * marked {@code stagefarm.cache.hit}. A dispatched task carries its stage span's W3C context, so a
 * worker's spans of the attempt join the build's trace as children of it.
 *
 * <p>Attributes name builds, stages, workers and tenants, never build arguments, secrets or
 * Dockerfile text. Open spans are bounded ({@link #MAX_OPEN_BUILDS}, {@link #MAX_OPEN_STAGES}): past
 * them a build or stage goes untraced rather than grow the coordinator's memory. Calls never throw
 * into the build: spans are recorded by the SDK's bounded queue and exported off the build's threads.
 */
public final class BuildTracing {
  public static final String INSTRUMENTATION = "dev.stagefarm.coordinator";
  public static final int MAX_OPEN_BUILDS = 10_000;
  public static final int MAX_OPEN_STAGES = 100_000;

  public static final AttributeKey<String> BUILD_ID = AttributeKey.stringKey("stagefarm.build.id");
  public static final AttributeKey<String> STAGE_ID = AttributeKey.stringKey("stagefarm.stage.id");
  public static final AttributeKey<String> STAGE_NAME = AttributeKey.stringKey("stagefarm.stage.name");
  public static final AttributeKey<Long> STAGE_INDEX = AttributeKey.longKey("stagefarm.stage.index");
  public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("stagefarm.attempt");
  public static final AttributeKey<String> WORKER_ID = AttributeKey.stringKey("stagefarm.worker.id");
  public static final AttributeKey<String> TENANT = AttributeKey.stringKey("stagefarm.tenant");
  public static final AttributeKey<String> TARGET = AttributeKey.stringKey("stagefarm.target");
  public static final AttributeKey<String> STATE = AttributeKey.stringKey("stagefarm.state");
  public static final AttributeKey<Boolean> CACHE_HIT = AttributeKey.booleanKey("stagefarm.cache.hit");

  private static final BuildTracing NONE = new BuildTracing(null);

  /** Null when off: every call returns at once. */
  private final Tracer tracer;
  private final Map<String, Span> builds = new ConcurrentHashMap<>();
  private final Map<String, Span> planning = new ConcurrentHashMap<>();
  private final Map<String, StageSpans> stages = new ConcurrentHashMap<>();

  /** One attempt's spans; the queue span ends when a worker starts it, the run span when it ends. */
  private record StageSpans(int attempt, Span stage, Span queue, AtomicReference<Span> run) {}

  private BuildTracing(Tracer tracer) {
    this.tracer = tracer;
  }

  /** No spans, no context in tasks: the default. */
  public static BuildTracing none() {
    return NONE;
  }

  /** Spans recorded with {@code openTelemetry}'s tracer provider. */
  public static BuildTracing with(OpenTelemetry openTelemetry) {
    return new BuildTracing(openTelemetry.getTracer(INSTRUMENTATION));
  }

  public boolean enabled() {
    return tracer != null;
  }

  /** A client's request became build {@code buildId} at {@code createdMs}. */
  public void buildSubmitted(String buildId, String tenant, String target, long createdMs) {
    if (tracer == null || builds.size() >= MAX_OPEN_BUILDS) {
      return;
    }
    Span span = tracer.spanBuilder("build").setSpanKind(SpanKind.SERVER).setNoParent()
        .setStartTimestamp(createdMs, TimeUnit.MILLISECONDS)
        .setAttribute(BUILD_ID, buildId).setAttribute(TENANT, tenant).setAttribute(TARGET, target).startSpan();
    builds.put(buildId, span);
  }

  public void planningStarted(String buildId) {
    Span build = tracer == null ? null : builds.get(buildId);
    if (build != null) {
      planning.put(buildId, tracer.spanBuilder("planning").setParent(Context.root().with(build))
          .setAttribute(BUILD_ID, buildId).startSpan());
    }
  }

  /** Planning ended with the build in {@code state} (RUNNING: planned; FAILED: it could not be). */
  public void planningEnded(String buildId, BuildState state) {
    Span span = tracer == null ? null : planning.remove(buildId);
    if (span != null) {
      if (state == BuildState.FAILED) {
        span.setStatus(StatusCode.ERROR);
      }
      span.end();
    }
  }

  /**
   * Attempt {@code job} goes to the workers: its stage and queue spans start, and the job returned
   * carries the stage span's context (the job itself when nothing is traced).
   */
  public StageJob dispatched(StageJob job, String tenant) {
    if (tracer == null) {
      return job;
    }
    String key = key(job.buildId(), job.stageId());
    StageSpans earlier = stages.remove(key);
    if (earlier != null) {
      end(earlier, StageState.QUEUED, "superseded by attempt " + job.attempt());
    }
    if (stages.size() >= MAX_OPEN_STAGES) {
      return job;
    }
    Span stage = stageSpan(job.buildId(), job.stageId(), job.stageName(), tenant)
        .setAttribute(ATTEMPT, (long) job.attempt()).startSpan();
    Span queue = tracer.spanBuilder("stage.queue").setParent(Context.root().with(stage))
        .setAttribute(BUILD_ID, job.buildId()).setAttribute(STAGE_ID, job.stageId()).startSpan();
    stages.put(key, new StageSpans(job.attempt(), stage, queue, new AtomicReference<>()));
    Map<String, String> carrier = new HashMap<>();
    W3CTraceContextPropagator.getInstance().inject(Context.root().with(stage), carrier, Map::put);
    String parent = carrier.getOrDefault("traceparent", "");
    return parent.isEmpty() ? job
        : job.withTrace(new StageJob.TraceContext(parent, carrier.getOrDefault("tracestate", "")));
  }

  /** The scheduler's view of a stage changed: a worker started it, it ended, or it was a cache hit. */
  public void stageChanged(StageSnapshot snapshot, String tenant) {
    if (tracer == null) {
      return;
    }
    String key = key(snapshot.buildId(), snapshot.stageId());
    switch (snapshot.state()) {
      case RUNNING -> {
        StageSpans spans = stages.get(key);
        if (spans != null && spans.attempt() == snapshot.attempt() && spans.run().get() == null) {
          spans.queue().end();
          spans.stage().setAttribute(WORKER_ID, snapshot.workerId());
          spans.run().set(tracer.spanBuilder("stage.run").setParent(Context.root().with(spans.stage()))
              .setAttribute(BUILD_ID, snapshot.buildId()).setAttribute(STAGE_ID, snapshot.stageId())
              .setAttribute(WORKER_ID, snapshot.workerId()).startSpan());
        }
      }
      case CACHED -> {
        StageSpans open = stages.remove(key);
        if (open != null) {
          end(open, StageState.CACHED, null);
        } else if (builds.containsKey(snapshot.buildId())) {
          // cached as a whole at planning: nothing was dispatched
          stageSpan(snapshot.buildId(), snapshot.stageId(), snapshot.name(), tenant)
              .setAttribute(CACHE_HIT, true).setAttribute(STATE, "cached").startSpan().end();
        }
      }
      case DONE, FAILED, CANCELLED -> {
        StageSpans open = stages.get(key);
        if (open != null && open.attempt() <= snapshot.attempt() && stages.remove(key, open)) {
          end(open, snapshot.state(), null);
        }
      }
      case WAITING, QUEUED -> {
        // QUEUED is reported before dispatch: dispatched(...) starts the spans
      }
    }
  }

  /** The build ended: its span and whatever of its stages is still open end with it. */
  public void buildFinished(String buildId, BuildState state) {
    if (tracer == null) {
      return;
    }
    String prefix = buildId + "/";
    stages.entrySet().removeIf(e -> {
      if (e.getKey().startsWith(prefix)) {
        end(e.getValue(), StageState.CANCELLED, "the build ended");
        return true;
      }
      return false;
    });
    planningEnded(buildId, state);
    Span build = builds.remove(buildId);
    if (build != null) {
      build.setAttribute(STATE, state.name().toLowerCase(java.util.Locale.ROOT));
      if (state != BuildState.SUCCEEDED) {
        build.setStatus(StatusCode.ERROR); // no message: a build's error may quote its output
      }
      build.end();
    }
  }

  /** Open spans (builds + stages): bounded by the limits above. */
  public int openSpans() {
    return builds.size() + stages.size() + planning.size();
  }

  private SpanBuilder stageSpan(String buildId, String stageId, String name, String tenant) {
    Span build = builds.get(buildId);
    SpanBuilder builder = tracer.spanBuilder("stage")
        .setParent(build == null ? Context.root() : Context.root().with(build))
        .setAttribute(BUILD_ID, buildId).setAttribute(STAGE_ID, stageId).setAttribute(STAGE_NAME, name)
        .setAttribute(TENANT, tenant);
    long index = stageIndex(stageId);
    if (index >= 0) {
      builder.setAttribute(STAGE_INDEX, index);
    }
    return builder;
  }

  private static void end(StageSpans spans, StageState state, String why) {
    Instant now = Instant.now();
    Span run = spans.run().get();
    if (run == null) {
      spans.queue().end(now);
    } else {
      run.end(now);
    }
    spans.stage().setAttribute(STATE, state.name().toLowerCase(java.util.Locale.ROOT));
    if (state == StageState.CACHED) {
      spans.stage().setAttribute(CACHE_HIT, true);
    }
    if (state == StageState.FAILED || why != null) {
      spans.stage().setStatus(StatusCode.ERROR, why == null ? "" : why);
    }
    spans.stage().end(now);
  }

  /** The index of stage id {@code 1-build}; -1 when it has none. */
  static long stageIndex(String stageId) {
    int dash = stageId.indexOf('-');
    String digits = dash < 0 ? stageId : stageId.substring(0, dash);
    if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Long.parseLong(digits);
  }

  private static String key(String buildId, String stageId) {
    return buildId + "/" + stageId;
  }
}
