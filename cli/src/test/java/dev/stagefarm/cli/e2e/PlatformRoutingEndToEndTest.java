package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.testkit.Arm64BusyboxImage;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.worker.Worker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tasks go only to workers that run their platform (docs/protocol.md, "Platforms"), on a real farm:
 * worker-1 runs linux/amd64 (the host's), worker-2 is configured for linux/arm64 only and runs its
 * RUNs through qemu-user-static (binfmt_misc). An arm64 build runs on worker-2 and its RUN sees
 * aarch64; an amd64 build runs on worker-1.
 */
class PlatformRoutingEndToEndTest {
  @TempDir static Path dir;
  private static EmbeddedFarm farm;
  private static String amd64Busybox;
  private static String arm64Busybox;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Arm64BusyboxImage.runnable(), "this host cannot run arm64 binaries: " + Arm64BusyboxImage.QEMU_HANDLER
        + " is missing or disabled (apt-get install qemu-user-static; mount binfmt_misc)");
    RegistryFixture registry = RegistryFixture.shared();
    amd64Busybox = BusyboxImage.pushTo(registry).toString();
    arm64Busybox = Arm64BusyboxImage.pushTo(registry).toString();
    farm = EmbeddedFarm.start(new EmbeddedFarm.Options(
        dir.resolve("home"), null, 2, registry.settings(), EmbeddedKafka.Settings.forTests(),
        new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(20), 3), Duration.ofMillis(500)),
        0,
        config -> new Worker(config.workerId().equals("worker-2")
            ? config.withPlatforms(List.of(new Platform("linux", "arm64"))) : config).start()));
  }

  @AfterAll
  static void stop() {
    if (farm != null) {
      farm.close();
    }
  }

  /** {@code stagefarm build --coordinator <this farm> --progress plain ARGS…}, which must succeed; its stderr. */
  private static String stagefarmBuild(String... args) {
    FarmUnderTest.Result result = build(args);
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    return result.stderr();
  }

  private static FarmUnderTest.Result build(String... args) {
    List<String> full = new java.util.ArrayList<>(List.of("build", "--coordinator", farm.endpoint(), "--progress",
        "plain"));
    full.addAll(List.of(args));
    return FarmUnderTest.stagefarm(full.toArray(String[]::new));
  }

  private static Path context(String dockerfile) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx-" + UUID.randomUUID()));
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
    return ctx;
  }

  private static BuildStatus lastBuild() {
    return BuildServiceGrpc.newBlockingStub(farm.channel()).listBuilds(ListBuildsRequest.getDefaultInstance())
        .getBuildsList().stream().max(Comparator.comparingLong(BuildStatus::getCreatedMs)).orElseThrow();
  }

  @Test
  void anArm64BuildRunsOnlyOnTheArm64WorkerUnderQemuWithTheTargetArgs() throws Exception {
    String out = stagefarmBuild("--platform", "linux/arm64", context("""
        FROM %s
        ARG TARGETPLATFORM
        ARG TARGETARCH
        ARG BUILDPLATFORM
        RUN echo "arch=$(uname -m) target=$TARGETPLATFORM/$TARGETARCH build=$BUILDPLATFORM %s"
        """.formatted(arm64Busybox, UUID.randomUUID())).toString());

    assertThat(out).contains("arch=aarch64 target=linux/arm64/arm64 build=linux/amd64");
    assertThat(lastBuild().getStagesList()).extracting(StageStatus::getWorkerId).containsOnly("worker-2");
  }

  @Test
  void anAmd64BuildNeverGoesToTheArm64OnlyWorker() throws Exception {
    for (int i = 0; i < 3; i++) {
      String out = stagefarmBuild(context("FROM %s\nRUN echo \"arch=$(uname -m) %s\"\n"
          .formatted(amd64Busybox, UUID.randomUUID())).toString());
      assertThat(out).contains("arch=x86_64");
      assertThat(lastBuild().getStagesList()).extracting(StageStatus::getWorkerId).containsOnly("worker-1");
    }
  }

  /**
   * Two platforms in one command: a build each, on the worker of each platform, written as one OCI
   * image index that skopeo reads: one manifest per platform, each config with its architecture.
   */
  @Test
  void twoPlatformsComeOutAsOneOciImageIndexThatSkopeoReads() throws Exception {
    Path out = dir.resolve("index-" + UUID.randomUUID() + ".tar");
    String build = stagefarmBuild("--platform", "linux/amd64,linux/arm64", "-o", "type=oci,dest=" + out, context("""
        FROM %s AS base-amd64
        FROM %s AS base-arm64
        FROM base-$TARGETARCH
        RUN echo "arch=$(uname -m) %s" > /arch && cat /arch
        """.formatted(amd64Busybox, arm64Busybox, UUID.randomUUID())).toString());
    assertThat(build).contains("[linux/amd64 ", "[linux/arm64 ", "arch=x86_64", "arch=aarch64");

    String index = run("skopeo", "inspect", "--raw", "oci-archive:" + out);
    assertThat(index).contains("application/vnd.oci.image.index.v1+json", "\"architecture\":\"amd64\"",
        "\"architecture\":\"arm64\"");
    assertThat(run("skopeo", "inspect", "--override-arch", "arm64", "oci-archive:" + out))
        .contains("\"Architecture\": \"arm64\"");
    assertThat(run("skopeo", "inspect", "--override-arch", "amd64", "oci-archive:" + out))
        .contains("\"Architecture\": \"amd64\"");
  }

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }

  @Test
  void aPlatformTheFarmDoesNotRouteFailsTheBuildNamingThoseItDoes() throws Exception {
    FarmUnderTest.Result result = build("--platform", "linux/mips64", context("FROM scratch\nCOPY Dockerfile /\n")
        .toString());
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.stderr()).contains("platform linux/mips64: the farm builds for linux/amd64, linux/arm64, linux/arm/v7");
  }
}
