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
 * S3 is unreachable for 20 s while a stage writes and uploads a 16 MiB layer: the build either
 * completes (a later attempt, once S3 is back) or fails with a message naming S3 — it never hangs
 * (a farm of its own: the shared test farm's S3 stays up).
 */
class S3OutageEndToEndTest {

  @Test
  void anS3OutageDuringAnUploadEndsTheBuildClearlyNeverHangs(@TempDir Path dir) throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    try (EmbeddedFarm farm = PrivateFarm.start(dir.resolve("home"), 2, EmbeddedFarm.IN_PROCESS,
        InProcessWorkers.launcher())) {
      Path ctx = Files.createDirectories(dir.resolve("ctx"));
      Files.writeString(ctx.resolve("Dockerfile"), ("FROM %s\nRUN sleep 2 && head -c 16777216 /dev/urandom > /blob"
          + " && echo %s > /x\n").formatted(busybox, UUID.randomUUID()));
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

      farm.restartS3(Duration.ofSeconds(20)); // the RUN ends and its layer upload starts meanwhile

      BuildStatus done = watched.get(4, TimeUnit.MINUTES);
      System.err.println("after a 20 s S3 outage the build ended " + done.getState() + " (attempt "
          + done.getStages(0).getAttempt() + "): " + done.getError());
      if (done.getState() == BuildState.SUCCEEDED) {
        assertThat(done.getImageDigest()).startsWith("sha256:");
      } else {
        assertThat(done.getState()).isEqualTo(BuildState.FAILED);
        assertThat(done.getError()).containsIgnoringCase("S3");
      }
    }
  }
}
