package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.RegistryFixture;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator stopped while a stage runs: a new coordinator (same Kafka, same event group)
 * replays the build journal, publishes the stage again with attempt + 1, and the build succeeds;
 * the first attempt's late result is ignored.
 */
class CoordinatorRestartTest {
  static final String GROUP = "stagefarm-coordinator-restart-test";

  @Test
  void aRestartedCoordinatorResumesTheBuildWithTheNextAttempt(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    Files.writeString(dir.resolve("Dockerfile"), "FROM %s\nRUN sleep 4 && echo resumed > /x\n".formatted(FarmUnderTest.busybox()));
    ScannedContext context = ContextScanner.scan(dir);
    RegistryFixture registry = RegistryFixture.shared();

    try (BlobStore store =
            BlobStore.connect(
                new S3Config(farm.s3Endpoint(), EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedFarm.BUCKET, null));
        RegistryClient registryClient = new RegistryClient(registry.settings())) {
      String buildId;
      CoordinatorNode first = start(farm, store, registryClient, "restart-a");
      try {
        ManagedChannel channel = InProcessChannelBuilder.forName("restart-a").build();
        BuildClient client = new BuildClient(channel, "restart-a");
        client.upload(context);
        BuildStatus submitted =
            client.submit(
                SubmitBuildRequest.newBuilder()
                    .setDockerfile(ByteString.copyFrom(Files.readAllBytes(dir.resolve("Dockerfile"))))
                    .setDockerfileName("Dockerfile")
                    .setContextManifest(context.manifestDigest().toString())
                    .setNoCache(true)
                    .build());
        buildId = submitted.getBuildId();
        awaitRunning(client, buildId);
        channel.shutdownNow();
      } finally {
        first.close(); // mid-stage: the worker is still running attempt 1
      }

      CoordinatorNode second = start(farm, store, registryClient, "restart-b");
      try {
        ManagedChannel channel = InProcessChannelBuilder.forName("restart-b").build();
        BuildClient client = new BuildClient(channel, "restart-b");
        BuildStatus done = client.watch(buildId, progress -> {});
        assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
        assertThat(done.getStagesList()).hasSize(1);
        assertThat(done.getStages(0).getState()).isEqualTo(StageState.STAGE_DONE);
        assertThat(done.getStages(0).getAttempt()).isEqualTo(2);
        channel.shutdownNow();
      } finally {
        second.close();
      }
    }
  }

  private static CoordinatorNode start(EmbeddedFarm farm, BlobStore store, RegistryClient registry, String name)
      throws Exception {
    return CoordinatorNode.start(
        new CoordinatorNode.Options(
            farm.kafkaBootstrap(),
            GROUP,
            new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(20), 3), Duration.ofMillis(500)),
            farm.farmKeys()),
        store,
        registry,
        new StoreImageExporter(store),
        InProcessServerBuilder.forName(name));
  }

  private static void awaitRunning(BuildClient client, String buildId) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      BuildStatus status = client.getBuild(buildId);
      if (status.getStagesCount() > 0 && status.getStages(0).getState() == StageState.STAGE_RUNNING) {
        return;
      }
      assertThat(status.getState()).isIn(BuildState.QUEUED, BuildState.RUNNING);
      Thread.sleep(50);
    }
    throw new AssertionError("the stage never started");
  }
}
