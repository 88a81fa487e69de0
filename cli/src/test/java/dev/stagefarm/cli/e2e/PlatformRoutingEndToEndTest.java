package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stagefarm.cli.farm.EmbeddedFarm;
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
  private static RegistryFixture registry;
  private static String amd64Busybox;
  private static String arm64Busybox;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Arm64BusyboxImage.runnable(), "this host cannot run arm64 binaries: " + Arm64BusyboxImage.QEMU_HANDLER
        + " is missing or disabled (apt-get install qemu-user-static; mount binfmt_misc)");
    registry = RegistryFixture.shared();
    amd64Busybox = BusyboxImage.pushTo(registry).toString();
    arm64Busybox = Arm64BusyboxImage.pushTo(registry).toString();
    farm = PrivateFarm.start(dir.resolve("home"), 2, 0,
        config -> new Worker(config.workerId().equals("worker-2")
            ? config.withPlatforms(List.of(new Platform("linux", "arm64"))) : config).start());
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

  /**
   * The cross-compile pattern: stages on {@code $BUILDPLATFORM} (amd64, worker-1) write a file naming
   * {@code $TARGETARCH}, copied into a stage of the target platform; built for amd64 and arm64, each
   * platform's image holds its own file. The {@code tools} stage uses no TARGET arg, so both builds
   * have the same program for it: it runs once (counted from the workers' Started events).
   */
  @Test
  void aBuildPlatformStageCrossCompilesForEachTargetAndItsSharedPartRunsOnce() throws Exception {
    Path out = dir.resolve("cross-" + UUID.randomUUID() + ".tar");
    String nonce = UUID.randomUUID().toString();
    String progress = stagefarmBuild("--platform", "linux/amd64,linux/arm64", "-o", "type=oci,dest=" + out, context("""
        FROM --platform=$BUILDPLATFORM %1$s AS tools
        RUN echo "tools %3$s" > /tools
        FROM --platform=$BUILDPLATFORM %1$s AS build
        ARG TARGETARCH
        COPY --from=tools /tools /tools
        RUN echo "built on $(uname -m) for $TARGETARCH" > /out
        FROM %1$s AS base-amd64
        FROM %2$s AS base-arm64
        FROM base-$TARGETARCH
        COPY --from=build /out /out
        RUN echo "final on $(uname -m)"
        """.formatted(amd64Busybox, arm64Busybox, nonce)).toString());
    assertThat(progress).contains("final on x86_64", "final on aarch64");

    assertThat(fileIn(out, "amd64", "out")).isEqualTo("built on x86_64 for amd64\n");
    assertThat(fileIn(out, "arm64", "out")).isEqualTo("built on x86_64 for arm64\n");

    List<BuildStatus> builds = BuildServiceGrpc.newBlockingStub(farm.channel())
        .listBuilds(ListBuildsRequest.getDefaultInstance()).getBuildsList().stream()
        .sorted(Comparator.comparingLong(BuildStatus::getCreatedMs).reversed()).limit(2).toList();
    int toolsRuns = 0;
    var events = FarmEvents.of(farm.kafkaBootstrap(), builds.stream().map(BuildStatus::getBuildId).toList());
    for (BuildStatus build : builds) {
      for (StageStatus stage : build.getStagesList()) {
        if (stage.getName().equals("build")) {
          assertThat(stage.getWorkerId()).as("the build stage runs on the build platform's worker").isEqualTo("worker-1");
        }
      }
      toolsRuns += (int) events.getOrDefault(build.getBuildId(), List.of()).stream()
          .filter(e -> dev.stagefarm.proto.StageRuns.marksRun(e) && stageName(build, e.getStageId()).equals("tools")).count();
    }
    assertThat(toolsRuns).as("runs of the platform-independent stage over both builds").isEqualTo(1);
  }

  /**
   * {@code --platform a,b --push} and the {@code -o} forms that push: the farm pushes each platform's
   * manifest by digest and an OCI image index under the tag; read back from the registry with skopeo.
   */
  @Test
  void twoPlatformsArePushedAsOneImageIndexThatSkopeoReadsBack() throws Exception {
    String nonce = UUID.randomUUID().toString();
    Path ctx = context("""
        FROM %s AS base-amd64
        FROM %s AS base-arm64
        FROM base-$TARGETARCH
        RUN echo "%s" > /nonce
        """.formatted(amd64Busybox, arm64Busybox, nonce));
    String byFlag = registry.reference("e2e/index-push:1").toString();
    String byImage = registry.reference("e2e/index-image:1").toString();
    String byRegistry = registry.reference("e2e/index-registry:1").toString();
    FarmUnderTest.Result pushed = build("--platform", "linux/amd64,linux/arm64", "--push", "-t", byFlag, ctx.toString());
    assertThat(pushed.exitCode()).as(pushed.stderr()).isZero();
    assertThat(pushed.stdout()).contains("pushed " + byFlag + " (image index sha256:");
    FarmUnderTest.Result outputs = build("--platform", "linux/amd64,linux/arm64", "-o",
        "type=image,name=" + byImage + ",push=true", "-o", "type=registry,name=" + byRegistry, ctx.toString());
    assertThat(outputs.exitCode()).as(outputs.stderr()).isZero();

    for (String reference : List.of(byFlag, byImage, byRegistry)) {
      String index = run("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + reference);
      assertThat(index).as(reference).contains("application/vnd.oci.image.index.v1+json",
          "\"architecture\":\"amd64\"", "\"architecture\":\"arm64\"");
      for (String arch : List.of("amd64", "arm64")) {
        assertThat(run("skopeo", "inspect", "--tls-verify=false", "--override-arch", arch, "docker://" + reference))
            .as(reference + " " + arch).contains("\"Architecture\": \"" + arch + "\"");
      }
    }
  }

  /**
   * linux/arm/v7 is routed (it has a task topic) but no worker of this farm runs it: the workers'
   * presence events tell the coordinator so, and the build fails as a farm failure (exit 3) naming
   * the platform, not after the 15-minute queue lease.
   */
  @Test
  void aBuildForAPlatformNoWorkerRunsFailsSayingSoWithExitCode3() throws Exception {
    FarmUnderTest.Result result = build("--platform", "linux/arm/v7", context("FROM scratch\nCOPY Dockerfile /\n")
        .toString());
    assertThat(result.exitCode()).as(result.stderr()).isEqualTo(3);
    assertThat(result.stderr()).contains("no worker runs linux/arm/v7: the workers that announced themselves in the"
        + " last 15s run linux/amd64, linux/arm64");
  }

  private static String stageName(BuildStatus build, String stageId) {
    return build.getStagesList().stream().filter(s -> s.getStageId().equals(stageId)).map(StageStatus::getName)
        .findFirst().orElse("?");
  }

  /** The file {@code path} in the image of {@code arch} in an OCI index archive (skopeo picks it, umoci unpacks it). */
  private static String fileIn(Path archive, String arch, String path) throws Exception {
    Path work = Files.createDirectories(dir.resolve("unpack-" + UUID.randomUUID()));
    run("skopeo", "copy", "--override-arch", arch, "oci-archive:" + archive, "oci:" + work.resolve("layout") + ":img");
    run("umoci", "unpack", "--rootless", "--image", work.resolve("layout") + ":img", work.resolve("bundle").toString());
    return Files.readString(work.resolve("bundle/rootfs").resolve(path));
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
