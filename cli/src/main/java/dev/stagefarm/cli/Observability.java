package dev.stagefarm.cli;

import dev.stagefarm.cli.ops.ListenAddress;
import dev.stagefarm.cli.ops.LogFormat;
import dev.stagefarm.cli.ops.ObservabilityServer;
import dev.stagefarm.cli.ops.TraceSettings;
import dev.stagefarm.cli.ops.Traces;
import dev.stagefarm.config.CommonKeys;
import dev.stagefarm.config.ConfigValues;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * The observability settings of a server command ({@code metrics-listen}, {@code log-format}, the
 * {@code otel-*} trace export), checked before anything starts: a bad value or a refused bind is the
 * operator's to fix.
 *
 * @param traces the trace export (docs/operations.md, "Traces"); empty: off
 */
public record Observability(Optional<ListenAddress> listen, LogFormat logFormat, Optional<TraceSettings> traces) {

  public Observability(Optional<ListenAddress> listen, LogFormat logFormat) {
    this(listen, logFormat, Optional.empty());
  }

  /** Parses both settings and switches the log format at once (so start-up lines have it too). */
  public static Observability parse(String metricsListen, String logFormat) {
    Optional<ListenAddress> listen;
    LogFormat format;
    try {
      listen = metricsListen == null || metricsListen.isBlank()
          ? Optional.empty() : Optional.of(ListenAddress.parse(metricsListen));
    } catch (IllegalArgumentException e) {
      throw new UserError("metrics-listen: " + e.getMessage());
    }
    try {
      format = LogFormat.parse(logFormat);
    } catch (IllegalArgumentException e) {
      throw new UserError("log-format: " + e.getMessage());
    }
    format.apply();
    return new Observability(listen, format);
  }

  /**
   * These settings with the trace export of the {@code otel-*} keys in {@code values} (first) and the
   * standard {@code OTEL_*} variables of {@code env} (for a key that is unset).
   */
  public Observability withTraces(ConfigValues values, Map<String, String> env) {
    try {
      return new Observability(listen, logFormat, TraceSettings.resolve(values.get(CommonKeys.OTEL_ENDPOINT),
          values.get(CommonKeys.OTEL_HEADERS), values.get(CommonKeys.OTEL_SAMPLING_RATIO),
          // `up` has no otel-service-name (its coordinator and workers get one service name each)
          values.def().contains(CommonKeys.OTEL_SERVICE_NAME) ? values.get(CommonKeys.OTEL_SERVICE_NAME) : null,
          values.get(CommonKeys.OTEL_TIMEOUT), env));
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** Starts the trace export ({@link Traces#OFF} when off); the caller closes it after the farm parts. */
  public Traces startTraces() {
    return startTraces(traces);
  }

  /**
   * The trace export of the standard {@code OTEL_*} variables alone: the one-shot and local farms,
   * which read no server keys.
   */
  public static Traces tracesFromEnvironment(Map<String, String> env) {
    try {
      return startTraces(TraceSettings.fromEnvironment(env));
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }

  private static Traces startTraces(Optional<TraceSettings> settings) {
    try {
      return Traces.start(settings);
    } catch (IllegalStateException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** The registry the process's parts register their meters in: one nobody reads when the endpoint is off. */
  public MeterRegistry newRegistry() {
    return listen.isPresent() ? ObservabilityServer.newRegistry() : new CompositeMeterRegistry();
  }

  /**
   * Starts the endpoint for {@code registry} (from {@link #newRegistry()}) when {@code
   * metrics-listen} is set; returns null when it is off.
   *
   * @throws UserError when the address cannot be bound
   */
  public ObservabilityServer serve(MeterRegistry registry, ObservabilityServer.Probe liveness,
      ObservabilityServer.Probe readiness) {
    if (listen.isEmpty()) {
      return null;
    }
    try {
      return ObservabilityServer.start(listen.get(), (PrometheusMeterRegistry) registry, liveness, readiness);
    } catch (IOException e) {
      throw new UserError("metrics-listen: cannot listen at " + listen.get() + ": " + e.getMessage(), e);
    }
  }

  /** HOST:PORT of the running endpoint, with the port it bound. */
  public String describe(ObservabilityServer server) {
    return new ListenAddress(listen.orElseThrow().host(), server.address().getPort()).toString();
  }
}
