package dev.stagefarm.cli.ops;

import io.opentelemetry.api.OpenTelemetry;
import java.util.Optional;

/**
 * The process's trace export, one tracer provider per role ({@code stagefarm up} runs the
 * coordinator and the workers in one JVM, each with its own {@code service.name}). Only this type
 * and the OpenTelemetry API are seen by the commands: the SDK and the OTLP exporter ({@link
 * TraceExport}) are left out of the thin client distribution, which says so when asked to trace.
 */
public interface Traces extends AutoCloseable {
  String COORDINATOR = "stagefarm-coordinator";
  String WORKER = "stagefarm-worker";
  /** A class of the OpenTelemetry SDK: present in the full distribution only. */
  String SDK_MARKER = "io.opentelemetry.sdk.trace.SdkTracerProvider";

  /** Tracing off: no exporter, no spans. */
  Traces OFF = new Traces() {
    @Override
    public boolean enabled() {
      return false;
    }

    @Override
    public OpenTelemetry role(String defaultServiceName) {
      return OpenTelemetry.noop();
    }

    @Override
    public void close() {}
  };

  boolean enabled();

  /** The OpenTelemetry of one role's spans ({@link #COORDINATOR}, {@link #WORKER}) unless a service name is set. */
  OpenTelemetry role(String defaultServiceName);

  /** Flushes what is queued (bounded by the export timeout) and stops the exporters. */
  @Override
  void close();

  /**
   * Starts the export {@code settings} describe; {@link #OFF} when empty.
   *
   * @throws IllegalStateException in a distribution without the OpenTelemetry SDK
   */
  static Traces start(Optional<TraceSettings> settings) {
    if (settings.isEmpty()) {
      return OFF;
    }
    try {
      Class.forName(SDK_MARKER, false, Traces.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalStateException("traces need the OpenTelemetry SDK, which this thin client distribution leaves"
          + " out: run this part from the full distribution (./stagefarm, the stagefarm-coordinator and"
          + " stagefarm-worker images), or unset otel-endpoint and OTEL_EXPORTER_OTLP_*ENDPOINT");
    }
    return TraceExport.start(settings.get());
  }
}
