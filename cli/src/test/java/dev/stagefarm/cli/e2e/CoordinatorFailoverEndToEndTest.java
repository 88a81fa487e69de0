package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.GetBuildRequest;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coordinators in HA as child processes (real Kafka, S3, runc workers of the test farm): the
 * active one is SIGKILLed mid-build and a standby finishes the build; a second coordinator started
 * while six builds run disturbs none of them. The children form their own coordinator group, so
 * the test farm's in-process coordinator (another group) is not part of their election.
 */
class CoordinatorFailoverEndToEndTest {

  @Test
  void aStandbyTakesOverWhenTheActiveCoordinatorIsKilledAndTheBuildCompletes(@TempDir Path dir) throws Exception {
    String group = "ha-" + UUID.randomUUID();
    try (CoordinatorProcess first = CoordinatorProcess.start("coordinator-a", group);
        CoordinatorProcess second = CoordinatorProcess.start("coordinator-b", group);
        // the client is pointed at the standby first: it must follow the leader
        RemoteFarm farm = RemoteFarm.connect(second.address() + "," + first.address())) {
      assertThat(first.startedActive).isTrue();
      assertThat(second.startedActive).isFalse();

      BuildClient client = new BuildClient(farm);
      String marker = UUID.randomUUID().toString();
      String buildId = submit(client, dir, "FROM %s\nRUN sleep 8 && echo %s > /x\nRUN cat /x\n"
          .formatted(FarmUnderTest.busybox(), marker));
      List<BuildProgress> seen = new CopyOnWriteArrayList<>();
      CompletableFuture<BuildStatus> watched = CompletableFuture.supplyAsync(() -> client.watch(buildId, seen::add));
      awaitStageRunning(client, buildId);

      first.kill();
      long killed = System.nanoTime();
      long tookOver = awaitServing(second, buildId);
      System.err.printf("take-over: the standby served build %s %d ms after the active coordinator was SIGKILLed%n",
          buildId, (tookOver - killed) / 1_000_000);

      BuildStatus done = watched.get(3, TimeUnit.MINUTES);
      assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
      assertThat(done.getImageDigest()).startsWith("sha256:");
      assertThat(done.getStages(0).getAttempt()).as("the interrupted stage ran again").isGreaterThanOrEqualTo(2);
      // the watcher followed the leader and resumed after its last sequence: no entry twice, in order
      assertThat(seen).extracting(BuildProgress::getSequence).doesNotHaveDuplicates().isSorted();
      assertThat(seen.get(seen.size() - 1).getBuild().getState()).isEqualTo(BuildState.SUCCEEDED);
      assertThat(farm.endpoint()).isEqualTo(second.address());
    }
  }

  @Test
  void aSecondCoordinatorOnTheSameKafkaDisturbsNoRunningBuild(@TempDir Path dir) throws Exception {
    String group = "ha-" + UUID.randomUUID();
    try (CoordinatorProcess first = CoordinatorProcess.start("coordinator-a", group);
        RemoteFarm farm = RemoteFarm.connect(first.address())) {
      BuildClient client = new BuildClient(farm);
      List<String> builds = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        builds.add(submit(client, Files.createDirectories(dir.resolve("b" + i)),
            "FROM %s\nRUN sleep 2 && echo %s-%d > /x\n".formatted(FarmUnderTest.busybox(), UUID.randomUUID(), i)));
      }
      try (CoordinatorProcess second = CoordinatorProcess.start("coordinator-b", group)) {
        assertThat(second.startedActive).isFalse();
        for (String buildId : builds) {
          BuildStatus done = client.watch(buildId, progress -> {});
          assertThat(done.getState()).as(buildId + ": " + done.getError()).isEqualTo(BuildState.SUCCEEDED);
          assertThat(done.getStages(0).getAttempt()).as("no stage was re-run").isEqualTo(1);
        }
        assertThat(farm.endpoint()).isEqualTo(first.address());
      }
    }
  }

  private static String submit(BuildClient client, Path dir, String dockerfile) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), dockerfile);
    ScannedContext context = ContextScanner.scan(dir);
    client.upload(context);
    return client.submit(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFrom(Files.readAllBytes(dir.resolve("Dockerfile"))))
            .setContextManifest(context.manifestDigest().toString())
            .setNoCache(true)
            .build())
        .getBuildId();
  }

  private static void awaitStageRunning(BuildClient client, String buildId) throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      BuildStatus status = client.getBuild(buildId);
      if (status.getStagesCount() > 0 && status.getStages(0).getState() == StageState.STAGE_RUNNING) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the stage never started");
  }

  /** Polls the standby until it answers for the build as the active coordinator; returns when. */
  private static long awaitServing(CoordinatorProcess standby, String buildId) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", standby.port).usePlaintext().build();
    try {
      for (int i = 0; i < 1200; i++) {
        try {
          BuildServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
              .getBuild(GetBuildRequest.newBuilder().setBuildId(buildId).build());
          return System.nanoTime();
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        }
        Thread.sleep(50);
      }
      throw new AssertionError("the standby never took over");
    } finally {
      channel.shutdownNow();
    }
  }
}
