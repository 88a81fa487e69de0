package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.coordinator.remotecache.CacheConfig;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.TempDirectories;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --cache-to on one farm, --cache-from on another with its own, empty store and Kafka: the second farm takes every
 * step from the imported cache (no worker runs anything: counted from its events topic) and makes the same image.
 */
class RemoteCacheEndToEndTest {
  private static EmbeddedFarm fresh;

  @BeforeAll
  static void startTheSecondFarm() throws Exception {
    FarmUnderTest.farm();
    fresh = PrivateFarm.start(TempDirectories.createDeletedAtExit("stagefarm-e2e-farm2-"), 1, 0,
        InProcessWorkers.launcher());
  }

  @AfterAll
  static void stopIt() {
    if (fresh != null) {
      fresh.close();
    }
  }

  /** A builder stage feeding the image's stage through COPY --from, unique to the test. */
  private static Path context(Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %1$s AS builder
        RUN echo built-%2$s > /artifact
        RUN echo more > /more

        FROM %1$s
        COPY --from=builder /artifact /artifact
        RUN cat /artifact > /copy
        ENV DONE=yes
        """.formatted(FarmUnderTest.busybox(), UUID.randomUUID()));
    return ctx;
  }

  private static FarmUnderTest.Result buildOnFreshFarm(String... args) {
    return FarmUnderTest.buildOn(fresh.endpoint(), args);
  }

  private static BuildStatus lastBuildOnFreshFarm() {
    return BuildServiceGrpc.newBlockingStub(fresh.channel()).listBuilds(ListBuildsRequest.getDefaultInstance())
        .getBuildsList().stream().max(Comparator.comparingLong(BuildStatus::getCreatedMs)).orElseThrow();
  }

  private static Map<String, StageState> states(BuildStatus status) {
    return status.getStagesList().stream().collect(Collectors.toMap(StageStatus::getName, StageStatus::getState));
  }

  /** How many stage runs the fresh farm's workers started for the build (its events topic). */
  private static long runsOnFreshFarm(String buildId) throws Exception {
    List<StageEvent> events = FarmEvents.of(fresh.kafkaBootstrap(), List.of(buildId)).getOrDefault(buildId, List.of());
    return events.stream().filter(dev.stagefarm.proto.StageRuns::marksRun).count();
  }

  private static int recordsIn(String ref) throws Exception {
    try (RegistryClient registry = new RegistryClient(RegistryFixture.shared().settings())) {
      var reference = dev.stagefarm.oci.registry.ImageReference.parse(ref);
      var index = ImageJson.readIndex(registry.fetchManifest(reference).bytes());
      Descriptor config = index.manifests().stream().filter(d -> d.mediaType().equals(CacheConfig.MEDIA_TYPE))
          .findFirst().orElseThrow();
      return CacheConfig.parse(registry.fetchBlob(reference, config.digest())).records().size();
    }
  }

  @Test
  void aRegistryCacheMakesEveryStepCachedOnAFreshFarmAndTheSameImage(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    String ref = RegistryFixture.shared().reference("e2e/cache:max-" + UUID.randomUUID()).toString();

    FarmUnderTest.Result exported = FarmUnderTest.build("--cache-to", "type=registry,ref=" + ref + ",mode=max",
        ctx.toString());
    assertThat(exported.exitCode()).as(exported.stderr()).isZero();
    BuildStatus first = FarmUnderTest.lastBuild();
    assertThat(states(first).values()).doesNotContain(StageState.STAGE_CACHED); // it really ran there

    FarmUnderTest.Result imported = buildOnFreshFarm("--cache-from", "type=registry,ref=" + ref, ctx.toString());
    assertThat(imported.exitCode()).as(imported.stderr()).isZero();
    BuildStatus second = lastBuildOnFreshFarm();
    assertThat(second.getStagesList()).hasSize(2).allSatisfy(s -> {
      assertThat(s.getState()).isEqualTo(StageState.STAGE_CACHED);
      assertThat(s.getWorkerId()).isEmpty();
    });
    assertThat(runsOnFreshFarm(second.getBuildId())).isZero();
    assertThat(imported.stderr()).doesNotContain("warning:");
    assertThat(second.getImageDigest()).isEqualTo(first.getImageDigest());
  }

  @Test
  void modeMinExportsOnlyTheImagesStagesAndMaxEveryStage(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    String min = RegistryFixture.shared().reference("e2e/cache:min-" + UUID.randomUUID()).toString();
    String max = RegistryFixture.shared().reference("e2e/cache:max-" + UUID.randomUUID()).toString();

    FarmUnderTest.Result exported = FarmUnderTest.build("--cache-to", "type=registry,ref=" + min + ",mode=min",
        "--cache-to", "type=registry,ref=" + max + ",mode=max", ctx.toString());
    assertThat(exported.exitCode()).as(exported.stderr()).isZero();
    BuildStatus first = FarmUnderTest.lastBuild();
    // builder: 2 RUNs; the image's stage: COPY, RUN, ENV
    assertThat(recordsIn(min)).isEqualTo(3);
    assertThat(recordsIn(max)).isEqualTo(5);

    FarmUnderTest.Result imported = buildOnFreshFarm("--cache-from", "type=registry,ref=" + min, ctx.toString());
    assertThat(imported.exitCode()).as(imported.stderr()).isZero();
    BuildStatus second = lastBuildOnFreshFarm();
    // mode=min has nothing of the builder stage: it runs on the fresh farm; the image's stage is imported
    assertThat(states(second)).containsEntry("builder", StageState.STAGE_DONE);
    assertThat(states(second).get("1")).isEqualTo(StageState.STAGE_CACHED);
    assertThat(second.getImageDigest()).isEqualTo(first.getImageDigest());
  }

  @Test
  void aLocalCacheDirectoryWorksTheSame(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    Path cache = dir.resolve("cache");

    FarmUnderTest.Result exported = FarmUnderTest.build("--cache-to", "type=local,dest=" + cache + ",mode=max",
        ctx.toString());
    assertThat(exported.exitCode()).as(exported.stderr()).isZero();
    BuildStatus first = FarmUnderTest.lastBuild();
    assertThat(cache.resolve("index.json")).content().contains("\"org.opencontainers.image.ref.name\":\"latest\"");
    assertThat(cache.resolve("oci-layout")).exists();

    FarmUnderTest.Result imported = buildOnFreshFarm("--cache-from", "type=local,src=" + cache, ctx.toString());
    assertThat(imported.exitCode()).as(imported.stderr()).isZero();
    BuildStatus second = lastBuildOnFreshFarm();
    assertThat(second.getStagesList()).allSatisfy(s -> assertThat(s.getState()).isEqualTo(StageState.STAGE_CACHED));
    assertThat(runsOnFreshFarm(second.getBuildId())).isZero();
    assertThat(second.getImageDigest()).isEqualTo(first.getImageDigest());
  }

  @Test
  void aMissingCacheIsAWarningAndTheBuildRuns(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    String missing = RegistryFixture.shared().reference("e2e/cache:never-exported").toString();

    FarmUnderTest.Result result = buildOnFreshFarm("--cache-from", "type=registry,ref=" + missing, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stderr()).contains("warning: --cache-from " + missing + ": no cache there (not found)");
    assertThat(states(lastBuildOnFreshFarm()).values()).containsOnly(StageState.STAGE_DONE);
  }

  @Test
  void bakesCacheToAndCacheFromAttributesDoTheSame(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    String ref = RegistryFixture.shared().reference("e2e/cache:bake-" + UUID.randomUUID()).toString();
    Path exportFile = dir.resolve("export.hcl");
    Files.writeString(exportFile, """
        target "default" {
          context = "%s"
          cache-to = ["type=registry,ref=%s,mode=max"]
        }
        """.formatted(ctx, ref));
    Path importFile = dir.resolve("import.hcl");
    Files.writeString(importFile, """
        target "default" {
          context = "%s"
          cache-from = ["type=registry,ref=%s"]
        }
        """.formatted(ctx, ref));

    FarmUnderTest.Result exported = FarmUnderTest.stagefarm("bake", "--coordinator", FarmUnderTest.farm().endpoint(),
        "--progress", "plain", "-f", exportFile.toString());
    assertThat(exported.exitCode()).as(exported.stderr()).isZero();
    BuildStatus first = FarmUnderTest.lastBuild();
    FarmUnderTest.Result imported = FarmUnderTest.stagefarm("bake", "--coordinator", fresh.endpoint(),
        "--progress", "plain", "-f", importFile.toString());
    assertThat(imported.exitCode()).as(imported.stderr()).isZero();

    BuildStatus second = lastBuildOnFreshFarm();
    assertThat(second.getStagesList()).allSatisfy(s -> assertThat(s.getState()).isEqualTo(StageState.STAGE_CACHED));
    assertThat(runsOnFreshFarm(second.getBuildId())).isZero();
    assertThat(second.getImageDigest()).isEqualTo(first.getImageDigest());
  }
}
