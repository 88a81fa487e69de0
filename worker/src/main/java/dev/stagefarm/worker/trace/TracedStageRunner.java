package dev.stagefarm.worker.trace;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Op;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.StageRunner;
import dev.stagefarm.worker.store.LayerRef;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A worker's spans of a stage (docs/operations.md, "Traces"): {@code worker.stage} around the run,
 * a child of the coordinator's stage span whose W3C context the signed task carries (a root span
 * when the task has none), with one child per op named by its keyword ({@code RUN}, {@code COPY},
 * …) timed as the executor reports it, and {@code snapshot} / {@code upload} children
 * ({@link WorkerSpans}). Attributes: build, stage, attempt, worker, op index, line and whether the op
 * was a cache hit; never the instruction's text, arguments or output.
 */
public final class TracedStageRunner implements StageRunner {
  public static final String INSTRUMENTATION = "dev.stagefarm.worker";
  static final AttributeKey<String> BUILD_ID = AttributeKey.stringKey("stagefarm.build.id");
  static final AttributeKey<String> STAGE_ID = AttributeKey.stringKey("stagefarm.stage.id");
  static final AttributeKey<String> STAGE_NAME = AttributeKey.stringKey("stagefarm.stage.name");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("stagefarm.attempt");
  static final AttributeKey<String> WORKER_ID = AttributeKey.stringKey("stagefarm.worker.id");
  static final AttributeKey<Long> LINE = AttributeKey.longKey("stagefarm.op.line");
  static final AttributeKey<Boolean> CACHE_HIT = AttributeKey.booleanKey("stagefarm.cache.hit");

  private static final TextMapGetter<StageTask> TASK_CONTEXT = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(StageTask task) {
      return List.of("traceparent", "tracestate");
    }

    @Override
    public String get(StageTask task, String key) {
      if (task == null) {
        return null;
      }
      String value = switch (key) {
        case "traceparent" -> task.getTraceParent();
        case "tracestate" -> task.getTraceState();
        default -> "";
      };
      return value.isEmpty() ? null : value;
    }
  };

  private final StageRunner runner;
  private final Tracer tracer;
  private final String workerId;

  public TracedStageRunner(StageRunner runner, OpenTelemetry openTelemetry, String workerId) {
    this.runner = runner;
    this.tracer = openTelemetry.getTracer(INSTRUMENTATION);
    this.workerId = workerId;
  }

  @Override
  public void stageReported() {
    runner.stageReported();
  }

  @Override
  public ImageState run(StageTask task, StageProgress progress) throws StageFailedException, InterruptedException {
    // an unparsable traceparent (not the coordinator's: it is signed) is ignored by the propagator
    Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), task, TASK_CONTEXT);
    Span stage = tracer.spanBuilder("worker.stage").setParent(parent).setSpanKind(SpanKind.CONSUMER)
        .setAttribute(BUILD_ID, task.getBuildId()).setAttribute(STAGE_ID, task.getStageId())
        .setAttribute(STAGE_NAME, task.getStageName()).setAttribute(ATTEMPT, (long) task.getAttempt())
        .setAttribute(WORKER_ID, workerId).startSpan();
    Context context = parent.with(stage).with(WorkerSpans.TRACER, tracer);
    try (Scope ignored = context.makeCurrent()) {
      return runner.run(task, new OpSpans(progress, task, context));
    } catch (StageFailedException e) {
      stage.setStatus(StatusCode.ERROR, "the stage failed"); // its message may quote the RUN's output
      throw e;
    } catch (InterruptedException e) {
      stage.setStatus(StatusCode.ERROR, "interrupted");
      throw e;
    } catch (RuntimeException e) {
      stage.setStatus(StatusCode.ERROR, e.getClass().getSimpleName());
      throw e;
    } finally {
      stage.end();
    }
  }

  /** Passes progress on, and records each finished op as a span with the executor's timings. */
  private final class OpSpans implements StageProgress {
    private final StageProgress progress;
    private final StageTask task;
    private final Context context;

    OpSpans(StageProgress progress, StageTask task, Context context) {
      this.progress = progress;
      this.task = task;
      this.context = context;
    }

    @Override
    public void instructionStarted(int index) {
      progress.instructionStarted(index);
    }

    @Override
    public void log(int index, byte[] data, boolean stderr) {
      progress.log(index, data, stderr);
    }

    @Override
    public void instructionDone(int index, Optional<LayerRef> layer, boolean cached, long startedMs,
        long finishedMs) {
      progress.instructionDone(index, layer, cached, startedMs, finishedMs);
      Op op = task.hasProgram() && index >= 0 && index < task.getProgram().getOpsCount()
          ? task.getProgram().getOps(index) : null;
      String keyword = op == null ? "" : op.getSource().getKeyword();
      Span span = tracer.spanBuilder(keyword.matches("[A-Z]{1,16}") ? keyword : "op").setParent(context)
          .setStartTimestamp(startedMs, TimeUnit.MILLISECONDS)
          .setAttribute(WorkerSpans.OP_INDEX, (long) index).setAttribute(CACHE_HIT, cached).startSpan();
      if (op != null && op.getSource().getLine() > 0) {
        span.setAttribute(LINE, (long) op.getSource().getLine());
      }
      span.end(Math.max(finishedMs, startedMs), TimeUnit.MILLISECONDS);
    }
  }
}
