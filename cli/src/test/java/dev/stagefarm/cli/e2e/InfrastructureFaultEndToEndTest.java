package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.config.WorkerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An infrastructure fault is retried on another worker: worker-1's disk is full (its work dir is a
 * 512 KiB tmpfs, too small to extract the base image), so it reports the stage as a retriable
 * fault and pauses claiming; worker-2, started only once the coordinator published the next
 * attempt, runs it and the build succeeds. Without the classification the build would fail with
 * worker-1's error; without the pause, worker-1 could take every attempt.
 */
class InfrastructureFaultEndToEndTest {

  @Test
  void aFullDiskOnOneWorkerCostsARetryOnAnotherWorkerNotTheBuild(@TempDir Path dir) throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    CountDownLatch secondMayStart = new CountDownLatch(1);
    Path fullDisk = Files.createDirectories(dir.resolve("home/workers/worker-1"));
    mountTinyTmpfs(fullDisk);
    try (EmbeddedFarm farm = PrivateFarm.start(dir.resolve("home"), 2, EmbeddedFarm.IN_PROCESS,
        config -> config.workerId().equals("worker-1")
            ? new Worker(config.withFaultPause(Duration.ofMinutes(5))).start()
            : startWhenReleased(config, secondMayStart))) {
      BuildStatus done = buildOneRun(farm, dir, busybox, progress -> {
        if (progress.hasStage() && progress.getStage().getAttempt() >= 2) {
          secondMayStart.countDown(); // the coordinator retries: now a healthy worker joins
        }
      });

      assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
      StageStatus stage = done.getStages(0);
      assertThat(stage.getAttempt()).isEqualTo(2);
      assertThat(stage.getWorkerId()).isEqualTo("worker-2");
    } finally {
      unmount(fullDisk);
    }
  }

  /** Builds a one-RUN Dockerfile FROM {@code busybox} (never a cache hit) on {@code farm}; returns its end. */
  static BuildStatus buildOneRun(EmbeddedFarm farm, Path dir, String busybox,
      java.util.function.Consumer<dev.stagefarm.proto.v1.BuildProgress> progress) throws IOException {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\nRUN echo %s > /x\n".formatted(busybox, UUID.randomUUID()));
    ScannedContext context = ContextScanner.scan(ctx);
    BuildClient client = new BuildClient(farm.channel(), farm.endpoint());
    client.upload(context);
    BuildStatus submitted = client.submit(SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFrom(Files.readAllBytes(ctx.resolve("Dockerfile"))))
        .setContextManifest(context.manifestDigest().toString())
        .build());
    return client.watch(submitted.getBuildId(), progress);
  }

  /** Starts a worker once {@code release} opens; closing the handle stops it (or the wait). */
  static AutoCloseable startWhenReleased(WorkerConfig config, CountDownLatch release) {
    AtomicBoolean closing = new AtomicBoolean();
    CompletableFuture<Worker> worker = CompletableFuture.supplyAsync(() -> {
      try {
        if (!release.await(2, TimeUnit.MINUTES) || closing.get()) {
          return null;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
      return new Worker(config).start();
    });
    return () -> {
      closing.set(true);
      release.countDown();
      Worker started = worker.join();
      if (started != null) {
        started.close();
      }
    };
  }

  private static void mountTinyTmpfs(Path dir) throws IOException, InterruptedException {
    run(List.of("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir.toString()));
  }

  private static void unmount(Path dir) throws IOException, InterruptedException {
    run(List.of("umount", "-l", dir.toString()));
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IOException(command + " failed: " + output);
    }
  }
}
