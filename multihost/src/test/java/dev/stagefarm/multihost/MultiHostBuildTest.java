package dev.stagefarm.multihost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds through a farm whose parts are containers on a private network (Kafka, S3, registry,
 * coordinator, workers), with the client on the host: what a farm spread over machines does when
 * work fans out, a worker dies mid-stage, workers are added mid-build, the coordinator restarts.
 * Each test has its own farm. No wall-clock assertions: timeouts only bound a hang.
 */
@ExtendWith(DockerEngine.class)
class MultiHostBuildTest {
  private static final Duration STAGE_START = Duration.ofMinutes(5);
  private static final Duration BUILD = Duration.ofMinutes(10);
  /** A worker's log line for a stage it takes after another attempt or delivery of it. */
  private static final Pattern RETAKEN = Pattern.compile("took build \\S+ stage \\S+ (attempt [2-9]|attempt \\d+ \\(delivery [2-9])");

  @TempDir static Path shared;
  @TempDir Path work;

  @BeforeAll
  static void busyboxRootfsAndFarmKeys() throws Exception {
    CliBuild.run("image", "busybox-rootfs", shared.resolve("busybox").toString());
    CliBuild.run("admin", "farm-keys", "--out", shared.resolve("keys").toString());
  }

  /** Pushes the locally made busybox image as docker.io's library/busybox (the farm mirrors docker.io). */
  private static void pushBase(ContainerFarm farm) throws Exception {
    String registry = farm.registryFromHost();
    CliBuild.run("image", "import", shared.resolve("busybox").toString(), "--cmd", "sh",
        "--insecure-registry", registry, "-t", registry + "/library/busybox:latest");
  }

  /** {@code n} independent stages, each a RUN of {@code seconds}, and a last stage that copies from all. */
  private Path fanOut(int n, int seconds) throws Exception {
    StringBuilder dockerfile = new StringBuilder();
    for (int i = 1; i <= n; i++) {
      dockerfile.append("FROM busybox AS s").append(i).append('\n')
          .append("RUN sleep ").append(seconds).append(" && echo stage ").append(i).append(" > /s").append(i).append('\n');
    }
    dockerfile.append("FROM busybox\n");
    for (int i = 1; i <= n; i++) {
      dockerfile.append("COPY --from=s").append(i).append(" /s").append(i).append(" /out/s").append(i).append('\n');
    }
    dockerfile.append("RUN cat /out/* > /out/all\n");
    Path context = work.resolve("context");
    ContainerFarm.writeFile(context, "Dockerfile", dockerfile.toString());
    return context;
  }

  private CliBuild build(ContainerFarm farm, Path context, Path out) throws Exception {
    return CliBuild.start("build", "--coordinator", farm.coordinatorAddress(), "--progress", "plain",
        "-t", "multihost:test", "-o", "type=oci,dest=" + out, context.toString());
  }

  @Test
  void fanOutBuildSpreadsOverTheThreeWorkerContainers() throws Exception {
    try (ContainerFarm farm = new ContainerFarm(3, shared.resolve("keys"))) {
      pushBase(farm);
      Path out = work.resolve("image.tar");
      try (CliBuild build = build(farm, fanOut(6, 8), out)) {
        assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
        assertThat(build.workersUsed()).as(build.output()).containsExactlyInAnyOrder("worker-1", "worker-2", "worker-3");
      }
      assertThat(out).isNotEmptyFile();
    }
  }

  @Test
  void buildSucceedsWhenTheWorkerContainerRunningAStageIsKilled() throws Exception {
    try (ContainerFarm farm = new ContainerFarm(3, shared.resolve("keys"))) {
      pushBase(farm);
      Path out = work.resolve("image.tar");
      try (CliBuild build = build(farm, fanOut(1, 20), out)) {
        String[] running = build.awaitRunning(STAGE_START);
        String stage = running[0];
        String victim = running[1];
        farm.killWorker(victim); // SIGKILL mid-RUN: no release, no event; the lease runs out
        assertThat(farm.isRunning(victim)).as("the killed worker container still runs").isFalse();

        assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
        // the client's progress names only the first worker of a stage (a re-run after a lease ran
        // out is not reported as a new "running on"): the survivors' own logs show who re-ran it
        String survivors = farm.workerIds().stream().filter(id -> !id.equals(victim))
            .map(farm::workerLogs).collect(Collectors.joining("\n"));
        assertThat(survivors.lines().filter(l -> RETAKEN.matcher(l).find()))
            .as("a surviving worker took stage %s again; their logs:%n%s", stage, survivors).isNotEmpty();
        assertThat(build.workersOf(stage)).containsExactly(victim);
      }
      assertThat(out).isNotEmptyFile();
    }
  }

  @Test
  void workerContainersStartedMidBuildTakeQueuedStages() throws Exception {
    try (ContainerFarm farm = new ContainerFarm(1, shared.resolve("keys"))) {
      pushBase(farm);
      Path out = work.resolve("image.tar");
      try (CliBuild build = build(farm, fanOut(6, 20), out)) {
        assertThat(build.awaitRunning(STAGE_START)[1]).isEqualTo("worker-1");
        // the other stages wait for a free slot; two more machines join the farm
        CompletableFuture.allOf(
                CompletableFuture.runAsync(() -> farm.startWorker("worker-2")),
                CompletableFuture.runAsync(() -> farm.startWorker("worker-3")))
            .join();

        assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
        assertThat(build.workersUsed()).as(build.output()).contains("worker-1", "worker-2", "worker-3");
      }
      assertThat(out).isNotEmptyFile();
    }
  }

  @Test
  void buildCompletesWhenTheCoordinatorContainerRestartsMidBuild() throws Exception {
    try (ContainerFarm farm = new ContainerFarm(2, shared.resolve("keys"))) {
      pushBase(farm);
      Path out = work.resolve("image.tar");
      try (CliBuild build = build(farm, fanOut(2, 15), out)) {
        build.awaitRunning(STAGE_START);
        farm.restartCoordinator(); // the new process resumes the build from its Kafka journal

        assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
      }
      assertThat(farm.coordinatorLogs().lines().filter(l -> l.contains("coordinator listening")).count())
          .as("the coordinator started twice").isEqualTo(2);
      assertThat(out).isNotEmptyFile();
      assertThat(Files.size(out)).isPositive();
    }
  }

}
