package dev.stagefarm.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ObservabilityServerTest {
  final HttpClient http = HttpClient.newHttpClient();
  final AtomicReference<Optional<String>> live = new AtomicReference<>(Optional.empty());
  final AtomicReference<Optional<String>> ready = new AtomicReference<>(Optional.of("standby, cannot take over: S3 down"));
  final AtomicInteger queued = new AtomicInteger();
  ObservabilityServer server;

  @BeforeEach
  void start() throws Exception {
    var registry = ObservabilityServer.newRegistry();
    Gauge.builder("stagefarm.stages.queued", queued::get).register(registry);
    server = ObservabilityServer.start(ListenAddress.parse("127.0.0.1:0"), registry, live::get, ready::get);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  HttpResponse<String> send(String method, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesTheRegistryInThePrometheusTextFormatAsItIsAtEachScrape() throws Exception {
    queued.set(3);
    HttpResponse<String> first = send("GET", "/metrics");
    queued.set(0);
    HttpResponse<String> second = send("GET", "/metrics");

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type")).hasValue(ObservabilityServer.METRICS_CONTENT_TYPE);
    assertThat(first.body()).contains("# TYPE stagefarm_stages_queued gauge").contains("\nstagefarm_stages_queued 3.0\n")
        .contains("jvm_memory_used_bytes");
    assertThat(second.body()).contains("\nstagefarm_stages_queued 0.0\n");
  }

  @Test
  void probesAnswerOkOr503WithTheReason() throws Exception {
    HttpResponse<String> livez = send("GET", "/livez");
    HttpResponse<String> readyz = send("GET", "/readyz");

    assertThat(livez.statusCode()).isEqualTo(200);
    assertThat(livez.body()).isEqualTo("ok\n");
    assertThat(readyz.statusCode()).isEqualTo(503);
    assertThat(readyz.body()).isEqualTo("standby, cannot take over: S3 down\n");

    ready.set(Optional.empty());
    assertThat(send("GET", "/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void aProbeThatThrowsIsNotHealthyAndTheServerKeepsServing() throws Exception {
    AtomicReference<Optional<String>> unused = live;
    ObservabilityServer throwing = ObservabilityServer.start(ListenAddress.parse("127.0.0.1:0"),
        ObservabilityServer.newRegistry(), () -> {
          throw new IllegalStateException("boom");
        }, unused::get);
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + throwing.address().getPort() + "/livez")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.body()).contains("boom");
    } finally {
      throwing.close();
    }
  }

  @Test
  void otherPathsAreNotFoundAndOtherMethodsNotAllowed() throws Exception {
    assertThat(send("GET", "/").statusCode()).isEqualTo(404);
    assertThat(send("GET", "/metricsx").statusCode()).isEqualTo(404);
    assertThat(send("GET", "/metrics/x").statusCode()).isEqualTo(404);
    HttpResponse<String> post = send("POST", "/metrics");
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
  }

  @Test
  void headAnswersWithoutABody() throws Exception {
    HttpResponse<String> head = send("HEAD", "/readyz");
    assertThat(head.statusCode()).isEqualTo(503);
    assertThat(head.body()).isEmpty();
  }
}
