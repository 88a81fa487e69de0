package dev.stagefarm.cli;

import dev.stagefarm.cli.ops.ListenAddress;
import dev.stagefarm.cli.ops.LogFormat;
import dev.stagefarm.cli.ops.ObservabilityServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.Optional;

/**
 * The observability settings of a server command ({@code metrics-listen}, {@code log-format}),
 * checked before anything starts: a bad value or a refused bind is the operator's to fix.
 */
public record Observability(Optional<ListenAddress> listen, LogFormat logFormat) {

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
