package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.S3Fixture;
import dev.stagefarm.worker.config.WorkerConfig;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalDouble;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations endpoints of a real farm: {@code stagefarm coordinator --metrics-listen} and a
 * {@code stagefarm worker} (runc) with {@code metrics-listen}, on a Kafka broker and an S3 bucket
 * of their own (the shared test farm's workers would take the tasks otherwise). Everything is
 * scraped over HTTP as Prometheus would; every wait polls with a bound, nothing is timed.
 */
class MetricsEndToEndTest {
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static String busybox;
  private static Path farmKeyFile;
  private static String bucket;

  @BeforeAll
  static void farmParts(@TempDir Path dir) throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    farmKeyFile = dir.resolve("farm.key");
    FarmKeys.loadOrCreate(farmKeyFile);
    bucket = "metrics-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void theBacklogGaugeRisesWhileStagesQueueAndFallsAsAWorkerDrainsThem(@TempDir Path dir) throws Exception {
    int grpcPort = freePort();
    int coordinatorMetrics = freePort();
    int workerMetrics = freePort();
    String group = "metrics-" + UUID.randomUUID();
    try (InProcessCoordinator coordinator = InProcessCoordinator.start(group, grpcPort, coordinatorMetrics);
        RemoteFarm farm = RemoteFarm.connect("127.0.0.1:" + grpcPort)) {
      awaitStatus(coordinatorMetrics, "/readyz", 200);
      assertThat(get(coordinatorMetrics, "/livez").statusCode()).isEqualTo(200);
      assertThat(grpcHealth(grpcPort)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      assertThat(gauge(scrape(coordinatorMetrics), "stagefarm_coordinator_active")).hasValue(1.0);

      // four independent stages and one that copies from each: no worker runs yet
      BuildClient client = new BuildClient(farm);
      StringBuilder dockerfile = new StringBuilder();
      for (String name : List.of("a", "b", "c", "d")) {
        dockerfile.append("FROM %s AS %s\nRUN sleep 1 && echo %s > /%s\n".formatted(busybox, name, name, name));
      }
      dockerfile.append("FROM %s\n".formatted(busybox));
      for (String name : List.of("a", "b", "c", "d")) {
        dockerfile.append("COPY --from=%s /%s /%s\n".formatted(name, name, name));
      }
      String buildId = submit(client, dir, dockerfile.toString());
      CompletableFuture<BuildStatus> finished = CompletableFuture.supplyAsync(() -> client.watch(buildId, p -> {}));

      double risen = awaitGauge(coordinatorMetrics, "stagefarm_stages_queued", v -> v >= 4);
      assertThat(risen).as("the four parallel stages wait for a worker").isEqualTo(4.0);
      assertThat(gauge(scrape(coordinatorMetrics), "stagefarm_stages_running")).hasValue(0.0);

      WorkerConfig config = WorkerConfig.of(KafkaFixture.bootstrapServers(), S3Fixture.server().endpoint(),
              EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY, bucket, dir.resolve("worker"))
          .withWorkerId("metrics-worker-" + UUID.randomUUID().toString().substring(0, 8));
      try (ChildWorker worker = ChildWorker.start(config, farmKeyFile, List.of("--concurrency", "2",
          "--set", "metrics-listen=127.0.0.1:" + workerMetrics))) {
        awaitStatus(workerMetrics, "/readyz", 200);
        assertThat(get(workerMetrics, "/livez").statusCode()).isEqualTo(200);
        double busy = awaitGauge(workerMetrics, "stagefarm_worker_slots_busy", v -> v >= 1);
        assertThat(busy).isBetween(1.0, 2.0);

        double drained = awaitGauge(coordinatorMetrics, "stagefarm_stages_queued", v -> v == 0);
        assertThat(drained).isZero();
        BuildStatus done = finished.get(3, TimeUnit.MINUTES);
        assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);

        String coordinatorScrape = scrape(coordinatorMetrics);
        assertThat(gauge(coordinatorScrape, "stagefarm_stages_queued")).hasValue(0.0);
        assertThat(gauge(coordinatorScrape, "stagefarm_stages_running")).hasValue(0.0);
        assertThat(gauge(coordinatorScrape, "stagefarm_stage_dispatch_seconds_count")).hasValue(5.0);
        assertThat(gauge(coordinatorScrape, "stagefarm_stage_run_seconds_count{outcome=\"succeeded\"}")).hasValue(5.0);
        assertThat(gauge(coordinatorScrape, "stagefarm_builds_finished_total{state=\"succeeded\"}")).hasValue(1.0);
        assertThat(gauge(coordinatorScrape, "stagefarm_stages_finished_total{state=\"done\"}")).hasValue(5.0);
        assertThat(coordinatorScrape).doesNotContain(buildId);

        awaitGauge(workerMetrics, "stagefarm_worker_slots_busy", v -> v == 0);
        String workerScrape = scrape(workerMetrics);
        assertThat(gauge(workerScrape, "stagefarm_worker_slots_free")).hasValue(2.0);
        assertThat(gauge(workerScrape, "stagefarm_worker_cache_lookups_total").orElseThrow()).isPositive();
        assertThat(gauge(workerScrape, "stagefarm_worker_cache_hits_total")).hasValue(0.0);
        assertThat(gauge(workerScrape, "stagefarm_worker_s3_uploaded_bytes_total").orElseThrow()).isPositive();
        assertThat(gauge(workerScrape, "stagefarm_worker_s3_downloaded_bytes_total").orElseThrow()).isPositive();
      }
    }
  }

  @Test
  void aStandbyThatReachesKafkaAndS3IsReadyButNotServing() throws Exception {
    String group = "metrics-" + UUID.randomUUID();
    int activePort = freePort();
    int activeMetrics = freePort();
    int standbyPort = freePort();
    int standbyMetrics = freePort();
    try (InProcessCoordinator active = InProcessCoordinator.start(group, activePort, activeMetrics)) {
      awaitStatus(activeMetrics, "/readyz", 200);
      try (InProcessCoordinator standby = InProcessCoordinator.start(group, standbyPort, standbyMetrics)) {
        awaitStatus(standbyMetrics, "/readyz", 200);
        assertThat(get(standbyMetrics, "/livez").statusCode()).isEqualTo(200);
        assertThat(gauge(scrape(standbyMetrics), "stagefarm_coordinator_active")).hasValue(0.0);
        assertThat(grpcHealth(standbyPort)).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        assertThat(grpcHealth(activePort)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      }
    }
  }

  /** {@code stagefarm coordinator} run by Main in this JVM; closing interrupts it, which stops it as SIGTERM would. */
  private record InProcessCoordinator(Thread thread, CompletableFuture<Integer> exit) implements AutoCloseable {
    static InProcessCoordinator start(String group, int port, int metricsPort) throws Exception {
      String[] args = {"coordinator", "--group", group, "--kafka", KafkaFixture.bootstrapServers(),
          "--s3-endpoint", S3Fixture.server().endpoint(), "--s3-access-key", EmbeddedS3.DEFAULT_ACCESS_KEY,
          "--s3-secret-key", EmbeddedS3.DEFAULT_SECRET_KEY, "--bucket", bucket, "--port", Integer.toString(port),
          "--advertise", "127.0.0.1:" + port, "--farm-key-file", farmKeyFile.toString(),
          "--insecure-registry", RegistryFixture.shared().host(),
          "--metrics-listen", "127.0.0.1:" + metricsPort};
      CompletableFuture<Integer> exit = new CompletableFuture<>();
      Thread thread = Thread.ofPlatform().name("coordinator-" + port).start(() -> exit.complete(Main.execute(args)));
      return new InProcessCoordinator(thread, exit);
    }

    @Override
    public void close() throws Exception {
      thread.interrupt();
      assertThat(exit.get(60, TimeUnit.SECONDS)).isZero();
    }
  }

  private static String submit(BuildClient client, Path dir, String dockerfile) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), dockerfile);
    ScannedContext context = ContextScanner.scan(dir);
    client.upload(context);
    return client.submit(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8(dockerfile))
            .setContextManifest(context.manifestDigest().toString())
            .build()) // with the cache: the bucket is new, so every op is a miss the worker looks up
        .getBuildId();
  }

  private static HealthCheckResponse.ServingStatus grpcHealth(int port) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("stagefarm.v1.BuildService").build()).getStatus();
    } finally {
      channel.shutdownNow();
    }
  }

  /** Polls the gauge until it satisfies {@code until}; returns its value then. */
  private static double awaitGauge(int port, String name, DoublePredicate until) throws Exception {
    OptionalDouble last = OptionalDouble.empty();
    for (int i = 0; i < 1200; i++) {
      last = gauge(scrape(port), name);
      if (last.isPresent() && until.test(last.getAsDouble())) {
        return last.getAsDouble();
      }
      Thread.sleep(100);
    }
    throw new AssertionError(name + " never reached the expected value; last " + last);
  }

  static void awaitStatus(int port, String path, int status) throws Exception {
    String last = "no answer";
    for (int i = 0; i < 1200; i++) {
      try {
        HttpResponse<String> response = get(port, path);
        if (response.statusCode() == status) {
          return;
        }
        last = response.statusCode() + " " + response.body();
      } catch (IOException notYet) {
        last = notYet.toString();
      }
      Thread.sleep(100);
    }
    throw new AssertionError(path + " never answered " + status + "; last: " + last);
  }

  static String scrape(int port) throws Exception {
    HttpResponse<String> response = get(port, "/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    return response.body();
  }

  /** The value of the sample {@code name} (with its labels as written, e.g. {@code x_total{state="done"}}). */
  static OptionalDouble gauge(String scrape, String name) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith(name + " ")) {
        return OptionalDouble.of(Double.parseDouble(line.substring(name.length() + 1).trim()));
      }
    }
    return OptionalDouble.empty();
  }

  private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
