package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The farm's only Kafka broker is stopped for 5 s and started again while a stage runs: the
 * coordinator's writes wait in its outbox, the worker's events wait in its producer, and the build
 * completes (a farm of its own: the shared test farm's broker stays up).
 */
class KafkaRestartEndToEndTest {

  @Test
  void aBuildCompletesAcrossABrokerRestart(@TempDir Path dir) throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    try (EmbeddedFarm farm = PrivateFarm.start(dir.resolve("home"), 2, EmbeddedFarm.IN_PROCESS,
        InProcessWorkers.launcher())) {
      Path ctx = Files.createDirectories(dir.resolve("ctx"));
      Files.writeString(ctx.resolve("Dockerfile"),
          "FROM %s\nRUN sleep 4 && echo %s > /x\nRUN cat /x\n".formatted(busybox, UUID.randomUUID()));
      ScannedContext context = ContextScanner.scan(ctx);
      BuildClient client = new BuildClient(farm.channel(), farm.endpoint());
      client.upload(context);
      String buildId = client.submit(SubmitBuildRequest.newBuilder()
              .setDockerfile(ByteString.copyFrom(Files.readAllBytes(ctx.resolve("Dockerfile"))))
              .setContextManifest(context.manifestDigest().toString())
              .setNoCache(true)
              .build())
          .getBuildId();
      CompletableFuture<BuildStatus> watched = CompletableFuture.supplyAsync(() -> client.watch(buildId, p -> {}));
      for (int i = 0; i < 600 && client.getBuild(buildId).getStages(0).getState() != StageState.STAGE_RUNNING; i++) {
        Thread.sleep(50);
      }

      farm.restartKafka(Duration.ofSeconds(5));
      // status calls answer while the broker comes back
      assertThat(client.getBuild(buildId).getState()).isIn(BuildState.RUNNING, BuildState.SUCCEEDED);

      BuildStatus done = watched.get(4, TimeUnit.MINUTES);
      assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
      assertThat(done.getImageDigest()).startsWith("sha256:");
    }
  }
}
