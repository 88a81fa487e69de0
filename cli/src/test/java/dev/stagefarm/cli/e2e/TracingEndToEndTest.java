package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.FarmTracing;
import dev.stagefarm.cli.ops.TraceSettings;
import dev.stagefarm.cli.ops.Traces;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenTelemetry traces of a real build on a real farm (Kafka, S3, the coordinator, a runc worker)
 * as a collector receives them over OTLP/HTTP: the worker's stage span is a child of the
 * coordinator's stage span (the context travelled in the signed task), with the build's and
 * stage's attributes and no secret or build-argument values; then the collector goes away and
 * builds still succeed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TracingEndToEndTest {
  private static final String HEADER_SECRET = "collector-key-" + UUID.randomUUID();
  private static OtlpReceiver receiver;
  private static Traces traces;
  private static EmbeddedFarm farm;
  private static String busybox;
  @TempDir static Path dir;

  @BeforeAll
  static void farmThatTraces() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    receiver = new OtlpReceiver();
    traces = Traces.start(Optional.of(new TraceSettings(receiver.tracesUrl(), Map.of("x-api-key", HEADER_SECRET),
        1.0, Optional.empty(), Duration.ofSeconds(2))));
    farm = PrivateFarm.start(dir.resolve("home"), 1, 0, FarmTracing.workers(traces));
    FarmTracing.coordinator(farm.coordinator(), traces);
  }

  @AfterAll
  static void stop() {
    if (farm != null) {
      farm.close();
    }
    if (traces != null) {
      traces.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  @Test
  @Order(1)
  void workersStageSpanIsAChildOfTheCoordinatorsStageSpan() throws Exception {
    String argValue = "arg-value-" + UUID.randomUUID();
    Path ctx = Files.createDirectories(dir.resolve("ctx1"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s AS first
        ARG TOKEN
        RUN echo "$TOKEN %s" | wc -c > /len.txt
        FROM %s
        COPY --from=first /len.txt /len.txt
        """.formatted(busybox, UUID.randomUUID(), busybox));

    FarmUnderTest.Result result = FarmUnderTest.buildOn(farm.endpoint(), "--build-arg", "TOKEN=" + argValue,
        ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    OtlpReceiver.ReceivedSpan build = await(s -> s.name().equals("build"));
    String buildId = build.attributes().get("stagefarm.build.id");
    assertThat(buildId).isNotBlank();
    assertThat(build.service()).isEqualTo(Traces.COORDINATOR);
    assertThat(build.attributes()).containsEntry("stagefarm.state", "succeeded").containsKey("stagefarm.tenant");
    OtlpReceiver.ReceivedSpan coordinatorStage = await(s -> s.name().equals("stage")
        && buildId.equals(s.attributes().get("stagefarm.build.id")) && "first".equals(s.attributes().get("stagefarm.stage.name")));
    OtlpReceiver.ReceivedSpan workerStage = await(s -> s.name().equals("worker.stage")
        && buildId.equals(s.attributes().get("stagefarm.build.id")) && "first".equals(s.attributes().get("stagefarm.stage.name")));
    OtlpReceiver.ReceivedSpan run = await(s -> s.name().equals("RUN") && s.parentSpanId().equals(workerStage.spanId()));
    await(s -> s.name().equals("snapshot") && s.parentSpanId().equals(workerStage.spanId()));
    await(s -> s.name().equals("upload") && s.parentSpanId().equals(workerStage.spanId()));
    await(s -> s.name().equals("planning") && s.parentSpanId().equals(build.spanId()));
    await(s -> s.name().equals("stage.queue") && s.parentSpanId().equals(coordinatorStage.spanId()));
    await(s -> s.name().equals("stage.run") && s.parentSpanId().equals(coordinatorStage.spanId()));

    assertThat(coordinatorStage.traceId()).isEqualTo(build.traceId());
    assertThat(coordinatorStage.parentSpanId()).isEqualTo(build.spanId());
    assertThat(coordinatorStage.attributes()).containsEntry("stagefarm.stage.index", "0")
        .containsEntry("stagefarm.worker.id", "worker-1").containsEntry("stagefarm.attempt", "1")
        .containsEntry("stagefarm.state", "done");
    // the worker's span joins the coordinator's trace, under the coordinator's span of the attempt
    assertThat(workerStage.service()).isEqualTo(Traces.WORKER);
    assertThat(workerStage.traceId()).isEqualTo(coordinatorStage.traceId());
    assertThat(workerStage.parentSpanId()).isEqualTo(coordinatorStage.spanId());
    assertThat(workerStage.attributes()).containsEntry("stagefarm.worker.id", "worker-1")
        .containsEntry("stagefarm.stage.id", coordinatorStage.attributes().get("stagefarm.stage.id"));
    assertThat(run.traceId()).isEqualTo(build.traceId());
    assertThat(run.attributes()).containsEntry("stagefarm.cache.hit", "false").containsKey("stagefarm.op.line");
    // the collector got its header; no span carries it, nor the build argument's value
    assertThat(receiver.requestHeaders()).allSatisfy(h -> assertThat(h.get("X-api-key")).containsExactly(HEADER_SECRET));
    assertThat(receiver.spans()).allSatisfy(s -> assertThat(s.attributes().values())
        .noneMatch(v -> v.contains(argValue) || v.contains(HEADER_SECRET)));
  }

  @Test
  @Order(2)
  void buildsSucceedWhileTheCollectorIsUnreachable() throws Exception {
    receiver.close(); // its port is closed now: every export of the farm's spans is refused
    int before = receiver.spans().size();
    Path ctx = Files.createDirectories(dir.resolve("ctx2"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\nRUN echo %s > /x\n".formatted(busybox, UUID.randomUUID()));

    FarmUnderTest.Result result = FarmUnderTest.buildOn(farm.endpoint(), ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(receiver.spans()).hasSize(before);
  }

  private static OtlpReceiver.ReceivedSpan await(Predicate<OtlpReceiver.ReceivedSpan> wanted)
      throws InterruptedException {
    // spans leave in batches every 500 ms; the bound only stops a hang
    for (int i = 0; i < 1200; i++) {
      Optional<OtlpReceiver.ReceivedSpan> found = receiver.spans().stream().filter(wanted).findFirst();
      if (found.isPresent()) {
        return found.get();
      }
      Thread.sleep(100);
    }
    List<String> names = receiver.spans().stream().map(s -> s.service() + ":" + s.name()).toList();
    throw new AssertionError("no such span among " + names);
  }
}
