package dev.stagefarm.cli.ops;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The OpenTelemetry SDK behind {@link Traces}: per role a tracer provider with a parent-based
 * ratio sampler and a batch span processor whose queue is bounded ({@link #MAX_QUEUE} spans: past it
 * spans are dropped, never waited for) exporting over OTLP/HTTP with the JDK's HTTP client, one try
 * per batch within the export timeout. The exporter runs on the processor's own thread: a slow or
 * unreachable collector costs dropped spans, never a build's time.
 */
final class TraceExport implements Traces {
  static final int MAX_QUEUE = 2048;
  static final int MAX_BATCH = 512;
  static final Duration SCHEDULE_DELAY = Duration.ofMillis(500);
  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

  private final TraceSettings settings;
  private final Map<String, SdkTracerProvider> roles = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private TraceExport(TraceSettings settings) {
    this.settings = settings;
  }

  static TraceExport start(TraceSettings settings) {
    return new TraceExport(settings);
  }

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public OpenTelemetry role(String defaultServiceName) {
    if (closed) {
      return OpenTelemetry.noop();
    }
    SdkTracerProvider provider = roles.computeIfAbsent(settings.serviceName().orElse(defaultServiceName), this::sdk);
    return new OpenTelemetry() {
      @Override
      public TracerProvider getTracerProvider() {
        return provider;
      }

      @Override
      public ContextPropagators getPropagators() {
        return ContextPropagators.create(W3CTraceContextPropagator.getInstance());
      }
    };
  }

  private SdkTracerProvider sdk(String serviceName) {
    OtlpHttpSpanExporterBuilder exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint(settings.tracesUrl())
        .setTimeout(settings.timeout())
        .setConnectTimeout(settings.timeout())
        .setRetryPolicy(null) // the next batch is as good a try as a retry, and nothing piles up
        .setMeterProvider(MeterProvider::noop);
    settings.headers().forEach(exporter::addHeader);
    return SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(SERVICE_NAME, serviceName))))
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.samplingRatio())))
        .addSpanProcessor(BatchSpanProcessor.builder(exporter.build())
            .setMaxQueueSize(MAX_QUEUE)
            .setMaxExportBatchSize(MAX_BATCH)
            .setScheduleDelay(SCHEDULE_DELAY)
            .setExporterTimeout(settings.timeout())
            .setMeterProvider(MeterProvider::noop)
            .build())
        .build();
  }

  @Override
  public void close() {
    closed = true;
    List<io.opentelemetry.sdk.common.CompletableResultCode> shutdowns = new ArrayList<>();
    for (SdkTracerProvider provider : roles.values()) {
      shutdowns.add(provider.shutdown());
    }
    // the last batch gets one export's time, then the process goes on stopping
    io.opentelemetry.sdk.common.CompletableResultCode.ofAll(shutdowns)
        .join(settings.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
  }
}
