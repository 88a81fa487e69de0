package dev.stagefarm.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TraceSettingsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  @Test
  void offWithoutAnEndpointFromKeysOrEnvironment() {
    assertThat(TraceSettings.resolve(null, "a=b", 0.5, "svc", TIMEOUT, Map.of("OTEL_SERVICE_NAME", "x"))).isEmpty();
    assertThat(TraceSettings.fromEnvironment(Map.of())).isEmpty();
  }

  @Test
  void tracingOffStartsNoExporter() {
    long exportThreads = exportThreads();
    Traces traces = Traces.start(TraceSettings.fromEnvironment(Map.of()));

    assertThat(traces).isSameAs(Traces.OFF);
    assertThat(traces.enabled()).isFalse();
    assertThat(traces.role(Traces.COORDINATOR).getTracer("t").spanBuilder("s").startSpan().getSpanContext().isValid())
        .isFalse();
    assertThat(exportThreads()).isEqualTo(exportThreads);
  }

  @Test
  void theKeyAppendsTheTracesPathAndWinsOverTheEnvironment() {
    TraceSettings settings = TraceSettings.resolve("http://collector:4318/", null, null, null, TIMEOUT,
        Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318", "OTEL_EXPORTER_OTLP_HEADERS", "k=v%20w",
            "OTEL_SERVICE_NAME", "farm-a", "OTEL_TRACES_SAMPLER", "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG", "0.25")).orElseThrow();

    assertThat(settings.tracesUrl()).isEqualTo("http://collector:4318/v1/traces");
    assertThat(settings.headers()).containsExactly(Map.entry("k", "v w"));
    assertThat(settings.serviceName()).contains("farm-a");
    assertThat(settings.samplingRatio()).isEqualTo(0.25);
  }

  @Test
  void theStandardVariablesAloneTurnItOn() {
    assertThat(TraceSettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")))
        .map(TraceSettings::tracesUrl).contains("http://c:4318/v1/traces");
    assertThat(TraceSettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c/x/traces")))
        .map(TraceSettings::tracesUrl).contains("https://c/x/traces");
    assertThat(TraceSettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318",
        "OTEL_SDK_DISABLED", "true"))).isEmpty();
    assertThat(TraceSettings.resolve("http://c:4318", "a=1", 0.1, "n", TIMEOUT, Map.of("OTEL_SDK_DISABLED", "true")))
        .as("a key set on purpose beats the SDK switch").isPresent();
  }

  @Test
  void refusesAnotherProtocolNamingIt() {
    assertThatThrownBy(() -> TraceSettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_PROTOCOL is grpc").hasMessageContaining("http/protobuf");
  }

  @Test
  void badHeadersAreNamedByPositionNeverByValue() {
    assertThatThrownBy(() -> TraceSettings.resolve("http://c", "good=1,no-equals-sign-s3cr3t", null, null, TIMEOUT,
        Map.of())).hasMessageContaining("otel-headers: item 2").hasMessageNotContaining("s3cr3t");
    assertThatThrownBy(() -> TraceSettings.resolve("http://c", "k=%zz-s3cr3t", null, null, TIMEOUT, Map.of()))
        .hasMessageContaining("header k").hasMessageNotContaining("s3cr3t");
    assertThatThrownBy(() -> TraceSettings.resolve("http://c", "k=a%0Ab", null, null, TIMEOUT, Map.of()))
        .hasMessageContaining("control characters");
  }

  @Test
  void describesWithoutHeaderValues() {
    TraceSettings settings = new TraceSettings("http://c/v1/traces", Map.of("authorization", "Bearer s3cr3t"), 1,
        Optional.empty(), TIMEOUT);
    assertThat(settings.describe()).contains("http://c/v1/traces").doesNotContain("s3cr3t");
    assertThat(settings.toString()).doesNotContain("s3cr3t");
  }

  private static long exportThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("BatchSpanProcessor")).count();
  }
}
