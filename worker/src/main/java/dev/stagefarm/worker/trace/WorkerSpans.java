package dev.stagefarm.worker.trace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import java.io.IOException;

/**
 * Spans of a stage's parts (snapshot, upload) from code deep in the executor, without passing a
 * tracer through it: {@link TracedStageRunner} puts its tracer in the stage thread's context, and a
 * part started without one (tracing off, or a thread outside a stage) is a no-op span.
 */
public final class WorkerSpans {
  private WorkerSpans() {}

  static final ContextKey<Tracer> TRACER = ContextKey.named("stagefarm-worker-tracer");
  public static final AttributeKey<Long> OP_INDEX = AttributeKey.longKey("stagefarm.op.index");

  /** Work that may fail with an I/O error (an upload). */
  @FunctionalInterface
  public interface IoAction {
    void run() throws IOException;
  }

  /** A child of the current stage span, or a no-op span when nothing is traced here. */
  public static Span start(String name, int opIndex) {
    return start(Context.current(), name, opIndex);
  }

  /** Runs {@code action} as span {@code name}, a child of the stage span in {@code context} (for another thread). */
  public static void run(Context context, String name, int opIndex, IoAction action) throws IOException {
    Span span = start(context, name, opIndex);
    try (Scope ignored = context.with(span).makeCurrent()) {
      action.run();
    } catch (IOException | RuntimeException e) {
      span.setStatus(StatusCode.ERROR, e.getClass().getSimpleName());
      throw e;
    } finally {
      span.end();
    }
  }

  private static Span start(Context context, String name, int opIndex) {
    Tracer tracer = context.get(TRACER);
    if (tracer == null) {
      return Span.getInvalid();
    }
    return tracer.spanBuilder(name).setParent(context).setAttribute(OP_INDEX, (long) opIndex).startSpan();
  }
}
