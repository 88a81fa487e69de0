package dev.stagefarm.cli.ops;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where and how a process exports its spans (docs/operations.md, "Traces"), resolved from the
 * {@code otel-*} keys first and the standard {@code OTEL_*} environment variables second: a key set
 * in any of stagefarm's sources (file, {@code STAGEFARM_OTEL_*}, flag) wins over its {@code OTEL_*}
 * counterpart. No endpoint from either, or {@code OTEL_SDK_DISABLED=true}: off.
 *
 * @param tracesUrl the full URL spans are POSTed to ({@code <endpoint>/v1/traces})
 * @param headers sent with every export; secret (never logged or shown)
 * @param serviceName empty: each role's own ({@code stagefarm-coordinator}, {@code stagefarm-worker})
 */
public record TraceSettings(String tracesUrl, Map<String, String> headers, double samplingRatio,
    Optional<String> serviceName, Duration timeout) {

  public static final String PROTOCOL = "http/protobuf";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

  public TraceSettings {
    headers = Map.copyOf(headers);
  }

  /**
   * The settings, or empty when tracing is off.
   *
   * @param endpoint {@code otel-endpoint} (null: unset), the base URL ({@code /v1/traces} is appended)
   * @param headers {@code otel-headers} (null: unset)
   * @param ratio {@code otel-sampling-ratio} (null: unset)
   * @param serviceName {@code otel-service-name} (null: unset)
   * @param timeout {@code otel-timeout}
   * @throws IllegalArgumentException naming the key or variable whose value is wrong (never the value of a header)
   */
  public static Optional<TraceSettings> resolve(String endpoint, String headers, Double ratio, String serviceName,
      Duration timeout, Map<String, String> env) {
    String url;
    if (endpoint != null) {
      url = withPath(endpoint);
    } else if ("true".equalsIgnoreCase(env.getOrDefault("OTEL_SDK_DISABLED", "").trim())) {
      return Optional.empty();
    } else if (present(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
      url = url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").trim());
    } else if (present(env, "OTEL_EXPORTER_OTLP_ENDPOINT")) {
      url = withPath(url("OTEL_EXPORTER_OTLP_ENDPOINT", env.get("OTEL_EXPORTER_OTLP_ENDPOINT").trim()));
    } else {
      return Optional.empty();
    }
    for (String variable : new String[] {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"}) {
      if (present(env, variable) && !env.get(variable).trim().equals(PROTOCOL)) {
        throw new IllegalArgumentException(variable + " is " + env.get(variable).trim() + ": stagefarm exports"
            + " traces over OTLP/HTTP with protobuf only (" + PROTOCOL + ")");
      }
    }
    Map<String, String> parsedHeaders = headers != null ? parseHeaders("otel-headers", headers)
        : present(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS")
            ? parseHeaders("OTEL_EXPORTER_OTLP_TRACES_HEADERS", env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"))
            : present(env, "OTEL_EXPORTER_OTLP_HEADERS")
                ? parseHeaders("OTEL_EXPORTER_OTLP_HEADERS", env.get("OTEL_EXPORTER_OTLP_HEADERS")) : Map.of();
    double samplingRatio = ratio != null ? ratio : envRatio(env);
    Optional<String> name = serviceName != null ? Optional.of(serviceName)
        : present(env, "OTEL_SERVICE_NAME") ? Optional.of(env.get("OTEL_SERVICE_NAME").trim()) : Optional.empty();
    return Optional.of(new TraceSettings(url, parsedHeaders, samplingRatio, name,
        timeout == null ? DEFAULT_TIMEOUT : timeout));
  }

  /** The standard variables alone: the one-shot and local farms, which have no server keys. */
  public static Optional<TraceSettings> fromEnvironment(Map<String, String> env) {
    return resolve(null, null, null, null, null, env);
  }

  /** What {@code --print-config} and start-up lines may show: the URL, not the headers. */
  public String describe() {
    return tracesUrl + (headers.isEmpty() ? "" : " (" + headers.size() + " header(s))")
        + (samplingRatio < 1 ? ", sampling " + samplingRatio : "");
  }

  private static double envRatio(Map<String, String> env) {
    String sampler = env.getOrDefault("OTEL_TRACES_SAMPLER", "").trim().toLowerCase(Locale.ROOT);
    if (!sampler.endsWith("traceidratio") || !present(env, "OTEL_TRACES_SAMPLER_ARG")) {
      return 1;
    }
    try {
      double value = Double.parseDouble(env.get("OTEL_TRACES_SAMPLER_ARG").trim());
      if (value >= 0 && value <= 1) {
        return value;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1");
  }

  private static String url(String what, String value) {
    if (!value.startsWith("http://") && !value.startsWith("https://")) {
      throw new IllegalArgumentException(what + " must be an http:// or https:// URL");
    }
    return value;
  }

  private static String withPath(String base) {
    return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/traces";
  }

  /** {@code k=v,k2=v2}, values URL-encoded (the OTEL_EXPORTER_OTLP_HEADERS format). */
  static Map<String, String> parseHeaders(String what, String text) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (String item : text.split(",")) {
      if (item.isBlank()) {
        continue;
      }
      int eq = item.indexOf('=');
      String name = eq < 0 ? "" : item.substring(0, eq).trim();
      if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}") || headers.size() >= 64) {
        // the position, not the text: a header's value may be a credential
        throw new IllegalArgumentException(what + ": item " + (headers.size() + 1)
            + " is not `name=value` with a valid header name (at most 64 headers)");
      }
      String value;
      try {
        value = URLDecoder.decode(item.substring(eq + 1).trim(), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(what + ": the value of header " + name + " is not URL-encoded");
      }
      if (value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
        throw new IllegalArgumentException(what + ": the value of header " + name + " holds control characters");
      }
      headers.put(name, value);
    }
    return headers;
  }

  private static boolean present(Map<String, String> env, String variable) {
    String value = env.get(variable);
    return value != null && !value.isBlank();
  }

  @Override
  public String toString() {
    return "TraceSettings[" + describe() + "]"; // never the headers' values
  }
}
