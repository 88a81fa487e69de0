package dev.stagefarm.cli.e2e;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An OTLP/HTTP trace receiver ({@code POST /v1/traces}, {@code application/x-protobuf}) as a
 * collector is one: it decodes each {@code ExportTraceServiceRequest} with the OTLP protobuf
 * messages and keeps the spans and the requests' headers for the test to read.
 */
final class OtlpReceiver implements AutoCloseable {
  /** One received span, flattened: ids in hex, attribute values as text. */
  record ReceivedSpan(String service, String name, String traceId, String spanId, String parentSpanId,
      Map<String, String> attributes) {}

  private static final int MAX_BODY = 16 << 20;
  private final HttpServer server;
  private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();
  private final List<Map<String, List<String>>> headers = new CopyOnWriteArrayList<>();

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/traces", exchange -> {
      try (exchange; InputStream body = exchange.getRequestBody()) {
        byte[] bytes = body.readNBytes(MAX_BODY);
        if (!exchange.getRequestMethod().equals("POST")
            || !"application/x-protobuf".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
          exchange.sendResponseHeaders(415, -1);
          return;
        }
        headers.add(Map.copyOf(exchange.getRequestHeaders()));
        ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(bytes);
        for (ResourceSpans resource : request.getResourceSpansList()) {
          String service = attributes(resource.getResource().getAttributesList()).getOrDefault("service.name", "");
          for (ScopeSpans scope : resource.getScopeSpansList()) {
            for (var span : scope.getSpansList()) {
              spans.add(new ReceivedSpan(service, span.getName(), hex(span.getTraceId().toByteArray()),
                  hex(span.getSpanId().toByteArray()), hex(span.getParentSpanId().toByteArray()),
                  attributes(span.getAttributesList())));
            }
          }
        }
        byte[] response = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, response.length == 0 ? -1 : response.length);
        exchange.getResponseBody().write(response);
      }
    });
    server.start();
  }

  /** The URL spans are posted to. */
  String tracesUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces";
  }

  List<ReceivedSpan> spans() {
    return List.copyOf(spans);
  }

  List<Map<String, List<String>>> requestHeaders() {
    return List.copyOf(headers);
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private static Map<String, String> attributes(List<KeyValue> list) {
    Map<String, String> map = new LinkedHashMap<>();
    for (KeyValue kv : list) {
      AnyValue v = kv.getValue();
      map.put(kv.getKey(), switch (v.getValueCase()) {
        case STRING_VALUE -> v.getStringValue();
        case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
        case INT_VALUE -> Long.toString(v.getIntValue());
        case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
        default -> v.toString();
      });
    }
    return map;
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
