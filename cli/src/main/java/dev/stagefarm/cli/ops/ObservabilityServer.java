package dev.stagefarm.cli.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operations endpoint of a coordinator or worker (docs/operations.md, "Metrics and health"):
 * {@code /metrics} in the Prometheus text format, {@code /livez} and {@code /readyz} (200 "ok", or
 * 503 with the reason). Plain HTTP without authentication: it tells nothing secret, but bind it
 * to a private address.
 */
public final class ObservabilityServer implements AutoCloseable {
  /** The Prometheus text exposition format, version 0.0.4. */
  static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  /** Scrapes and probes are few; more concurrent requests wait in the listen backlog. */
  private static final int THREADS = 2;
  private static final int BACKLOG = 16;

  /** A health question: empty when healthy, else why not. */
  public interface Probe extends Supplier<Optional<String>> {}

  private final PrometheusMeterRegistry registry;
  private final HttpServer server;
  private final ExecutorService executor;

  private ObservabilityServer(PrometheusMeterRegistry registry, HttpServer server, ExecutorService executor) {
    this.registry = registry;
    this.server = server;
    this.executor = executor;
  }

  /** A registry with the JVM's own meters, for the process's parts to register theirs in. */
  public static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  /**
   * Serves {@code registry} and the probes at {@code address}.
   *
   * @throws IOException when the address cannot be bound (in use, not this host's)
   */
  public static ObservabilityServer start(ListenAddress address, PrometheusMeterRegistry registry, Probe liveness,
      Probe readiness) throws IOException {
    HttpServer server = HttpServer.create(address.socketAddress(), BACKLOG);
    ExecutorService executor = Executors.newFixedThreadPool(THREADS,
        Thread.ofPlatform().daemon().name("stagefarm-metrics-", 0).factory());
    server.setExecutor(executor);
    server.createContext("/metrics", exchange -> respond(exchange, 200, METRICS_CONTENT_TYPE, registry.scrape()));
    server.createContext("/livez", exchange -> probe(exchange, liveness));
    server.createContext("/readyz", exchange -> probe(exchange, readiness));
    server.createContext("/", exchange -> respond(exchange, 404, "text/plain; charset=utf-8",
        "not found: the paths are /metrics, /livez and /readyz\n"));
    server.start();
    return new ObservabilityServer(registry, server, executor);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The bound address (its port when 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private static void probe(HttpExchange exchange, Probe probe) throws IOException {
    Optional<String> problem;
    try {
      problem = probe.get();
    } catch (RuntimeException e) {
      problem = Optional.of("the check failed: " + e);
    }
    if (problem.isEmpty()) {
      respond(exchange, 200, "text/plain; charset=utf-8", "ok\n");
    } else {
      respond(exchange, 503, "text/plain; charset=utf-8", problem.get() + "\n");
    }
  }

  private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      if (!exchange.getRequestURI().getPath().equals(exchange.getHttpContext().getPath())
          && status != 404) {
        status = 404; // "/metricsx" reaches the /metrics context
        body = "not found: the paths are /metrics, /livez and /readyz\n";
        contentType = "text/plain; charset=utf-8";
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", contentType);
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(status, -1);
        return;
      }
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    registry.close();
  }
}
