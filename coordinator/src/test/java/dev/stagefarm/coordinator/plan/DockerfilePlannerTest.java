package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.InMemoryCacheRecords;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DockerfilePlannerTest {
  static final String BUSYBOX_DIGEST = "sha256:" + "b".repeat(64);

  final InMemoryContentStore content = new InMemoryContentStore();
  final InMemoryCacheRecords records = new InMemoryCacheRecords();
  /** Image reference → manifest digest (default BUSYBOX_DIGEST) and → ONBUILD triggers. */
  final Map<String, String> digests = new HashMap<>();
  final Map<String, List<String>> onBuild = new HashMap<>();
  final BaseImageResolver resolver =
      (reference, platform) -> {
        if (reference.contains("missing")) {
          throw new PlanningException("image " + reference + " not found");
        }
        String digest = digests.getOrDefault(reference, BUSYBOX_DIGEST);
        String triggers =
            onBuild.getOrDefault(reference, List.of()).stream()
                .map(t -> "\"" + t.replace("\"", "\\\"") + "\"")
                .collect(java.util.stream.Collectors.joining(","));
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],\"OnBuild\":["
            + triggers + "]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        return new BaseImageResolver.ResolvedImage(
            "localhost/" + reference + "@" + digest,
            digest,
            new StageResult(List.of(layer("1")), config.getBytes(StandardCharsets.UTF_8), reference));
      };
  final DockerfilePlanner planner = new DockerfilePlanner(content, records, resolver);

  static LayerRef layer(String c) {
    Digest digest = Digest.parse("sha256:" + c.repeat(64));
    return new LayerRef(new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, digest, 1), digest);
  }

  static final String CLIENT_SERVER =
      """
      FROM busybox AS base
      RUN echo base > /base

      FROM base AS build-client
      COPY client.txt /src/
      RUN cp /src/client.txt /client

      FROM base AS build-server
      COPY server.txt /src/
      RUN false

      FROM scratch AS client
      COPY --from=build-client /client /client

      FROM scratch AS server
      COPY --from=build-server /server /server
      """;

  String context(String clientContent) {
    return context(clientContent, "s");
  }

  String context(String clientContent, String serverContent) {
    ContextManifest manifest =
        ContextManifest.newBuilder()
            .addEntries(file("client.txt", clientContent))
            .addEntries(file("server.txt", serverContent))
            .build();
    return content.putBytes(Namespace.CONTEXT, manifest.toByteArray()).toString();
  }

  static ContextEntry file(String path, String contentHex) {
    return ContextEntry.newBuilder()
        .setPath(path)
        .setType(ContextEntry.Type.FILE)
        .setMode(0644)
        .setDigest("sha256:" + contentHex.repeat(64).substring(0, 64))
        .build();
  }

  BuildPlan plan(String dockerfile, String target, String context) throws PlanningException {
    return plan("b1", dockerfile, target, context);
  }

  BuildPlan plan(String buildId, String dockerfile, String target, String context) throws PlanningException {
    return planner.plan(
        buildId,
        SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8(dockerfile))
            .setDockerfileName("Dockerfile")
            .setTarget(target)
            .setContextManifest(context)
            .build());
  }

  static List<String> keys(PlannedStage stage) {
    return stage.opKeys().stream().map(CacheKey::hex).toList();
  }

  /** Records the op under the key as a worker would after running it. */
  void record(String key, LayerRef layer) {
    records.record(new CacheKey(key), new CachedOp(Optional.of(layer)));
  }

  @Test
  void onlyTheTargetAndTheStagesItStartsFromHaveLayersThatLeaveTheFarm() throws Exception {
    String dockerfile = CLIENT_SERVER + """

        FROM build-client AS release
        COPY --from=build-server /src/server.txt /
        """;
    BuildPlan plan = plan(dockerfile, "release", context("c"));
    java.util.Map<String, Boolean> reach = new java.util.TreeMap<>();
    for (PlannedStage stage : plan.stages()) {
      reach.put(stage.name(), plan.layersReachTarget(stage.id()));
    }
    // build-server only feeds a COPY --from: its layers stay in the farm (stored uncompressed)
    assertThat(reach).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
        "base", true, "build-client", true, "build-server", false, "release", true));

    BuildPlan client = plan(CLIENT_SERVER, "client", context("c"));
    for (PlannedStage stage : client.stages()) {
      assertThat(client.layersReachTarget(stage.id())).as(stage.name()).isEqualTo(stage.name().equals("client"));
    }
  }

  @Test
  void buildPlatformArgsNameTheWorkersPlatformAndTargetArgsTheRequestedOne() throws Exception {
    DockerfilePlanner onAmd64 = new DockerfilePlanner(content, records, resolver,
        new dev.stagefarm.dockerfile.graph.Platform("linux", "amd64", ""));
    BuildPlan plan = onAmd64.plan("b1", SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8(
            "FROM busybox\nARG BUILDPLATFORM BUILDOS BUILDARCH TARGETPLATFORM TARGETARCH\nRUN true\n"))
        .setPlatform(dev.stagefarm.proto.v1.Platform.newBuilder().setOs("linux").setArchitecture("arm64"))
        .build());

    StageProgram program = plan.stages().getLast().program();
    Action.Exec run = (Action.Exec) program.ops().getLast().action().orElseThrow();
    assertThat(run.env()).contains("BUILDPLATFORM=linux/amd64", "BUILDOS=linux", "BUILDARCH=amd64",
        "TARGETPLATFORM=linux/arm64", "TARGETARCH=arm64");
    assertThat(program.platform().architecture()).isEqualTo("arm64");
  }

  @Test
  void aStageFromBuildPlatformRunsOnTheBuildPlatformWithTheTargetArgsAndItsImageResolvedForIt() throws Exception {
    List<String> resolutions = new java.util.ArrayList<>();
    DockerfilePlanner onAmd64 = new DockerfilePlanner(content, records, (reference, platform) -> {
      resolutions.add(reference + " " + platform);
      return resolver.resolve(reference, platform);
    }, new dev.stagefarm.dockerfile.graph.Platform("linux", "amd64", ""));
    BuildPlan plan = onAmd64.plan("b1", SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("""
            FROM --platform=$BUILDPLATFORM golang AS build
            ARG TARGETARCH
            RUN echo $TARGETARCH > /out
            FROM build AS more
            RUN true
            FROM busybox
            COPY --from=more /out /out
            COPY --from=golang /x /x
            """))
        .setPlatform(dev.stagefarm.proto.v1.Platform.newBuilder().setOs("linux").setArchitecture("arm64"))
        .build());

    StageProgram build = plan.stages().get(0).program();
    assertThat(build.platform()).hasToString("linux/amd64");
    assertThat(((Action.Exec) build.ops().getLast().action().orElseThrow()).env()).contains("TARGETARCH=arm64");
    assertThat(plan.stages().get(1).program().platform()).as("a stage on a stage takes its platform")
        .hasToString("linux/amd64");
    assertThat(plan.stages().get(2).program().platform()).hasToString("linux/arm64");
    assertThat(resolutions).containsExactly("golang linux/amd64", "busybox linux/arm64", "golang linux/arm64");
    assertThat(plan.pinnedImages()).containsOnlyKeys("golang platform=linux/amd64", "busybox", "golang");
  }

  @Test
  void anExplicitStagePlatformTheFarmDoesNotRouteFailsNamingTheStage() {
    assertThatThrownBy(() -> plan("FROM --platform=linux/mips64 busybox AS odd\nRUN true\n", "", ""))
        .isInstanceOf(PlanningException.class)
        .hasMessageContaining("stage odd: FROM --platform=linux/mips64: platform linux/mips64: the farm builds for");
  }

  @Test
  void prunesToTheTargetAndWiresStageInputs() throws Exception {
    BuildPlan plan = plan(CLIENT_SERVER, "client", context("c"));
    assertThat(plan.stages()).extracting(PlannedStage::id).containsExactly("0-base", "1-build-client", "3-client");
    assertThat(plan.targetStageId()).isEqualTo("3-client");
    assertThat(plan.stage("1-build-client").baseStageId()).contains("0-base");
    assertThat(plan.stage("3-client").stageInputs()).containsExactly(java.util.Map.entry("stage:1-build-client", "1-build-client"));
    assertThat(plan.stage("3-client").program().inputs()).extracting(ProgramInput::id, ProgramInput::name)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("stage:1-build-client", "build-client"));
    // a stage input is keyed by that stage's final key
    assertThat(plan.stage("3-client").program().inputs().getFirst().key()).isEqualTo(plan.stage("1-build-client").chainKey());
    assertThat(plan.stage("0-base").base().orElseThrow().origin()).isEqualTo("busybox");
    assertThat(plan.stage("3-client").dependsOn()).containsExactly("1-build-client");
  }

  @Test
  void everyStageCarriesItsProgramWithOneKeyPerOp() throws Exception {
    BuildPlan plan = plan(CLIENT_SERVER, "client", context("c"));
    PlannedStage client = plan.stage("1-build-client");
    assertThat(client.program().ops()).extracting(op -> op.source().text())
        .containsExactly("COPY client.txt /src/", "RUN cp /src/client.txt /client");
    assertThat(client.opKeys()).hasSize(2).doesNotHaveDuplicates();
    // the chain starts where the base stage's ends
    assertThat(client.program().rootKey()).isEqualTo(plan.stage("0-base").chainKey());
    assertThat(plan.stage("0-base").program().base())
        .isEqualTo(new dev.stagefarm.program.ProgramBase.Image("localhost/busybox@" + BUSYBOX_DIGEST));
  }

  @Test
  void changingOneContextFileChangesKeysFromTheFirstInstructionThatReadsIt() throws Exception {
    BuildPlan before = plan(CLIENT_SERVER, "client", context("c"));
    BuildPlan again = plan(CLIENT_SERVER, "client", context("c"));
    BuildPlan after = plan(CLIENT_SERVER, "client", context("d"));

    assertThat(keys(again.stage("1-build-client"))).isEqualTo(keys(before.stage("1-build-client")));
    assertThat(keys(after.stage("0-base"))).isEqualTo(keys(before.stage("0-base")));
    List<String> clientBefore = keys(before.stage("1-build-client"));
    List<String> clientAfter = keys(after.stage("1-build-client"));
    assertThat(clientAfter.get(0)).isNotEqualTo(clientBefore.get(0));
    assertThat(clientAfter.get(1)).isNotEqualTo(clientBefore.get(1));
    // COPY --from keys follow the source stage's final key
    assertThat(keys(after.stage("3-client"))).isNotEqualTo(keys(before.stage("3-client")));
  }

  @Test
  void aStageWhoseEveryKeyHasARecordIsCompletedFromTheRecords() throws Exception {
    BuildPlan first = plan(CLIENT_SERVER, "client", context("c"));
    assertThat(first.stages()).allMatch(s -> s.cachedResult().isEmpty());
    List<String> baseKeys = keys(first.stage("0-base"));
    record(baseKeys.get(0), layer("2"));

    BuildPlan second = plan(CLIENT_SERVER, "client", context("c"));
    StageResult cached = second.stage("0-base").cachedResult().orElseThrow();
    assertThat(cached.layers()).containsExactly(layer("1"), layer("2"));
    assertThat(cached.origin()).isEqualTo("stage:base");
    // the record holds the layer; the config is folded from the base's over the ops
    ImageConfig config = ImageJson.readConfig(cached.configJson());
    assertThat(config.diffIds()).last().hasToString("sha256:" + "2".repeat(64));
    assertThat(config.history()).last().satisfies(h -> assertThat(h.createdBy()).isEqualTo("RUN /bin/sh -c echo base > /base # buildkit"));
    assertThat(second.stage("1-build-client").cachedResult()).isEmpty();
  }

  @Test
  void everyStagesLastRecordIsAskedForInOneConcurrentRoundAndTheRestOnlyOnAHit() throws Exception {
    // the bench's fan-out: eight independent stages and one gathering them, every op cached
    String fanout = fanout(8);
    BuildPlan cold = plan(fanout, "", "");
    int keys = 0;
    for (PlannedStage stage : cold.stages()) {
      for (String key : keys(stage)) {
        record(key, layer(Integer.toHexString(keys++ % 16)));
      }
    }
    assertThat(keys).isEqualTo(16);

    // each of the first 9 lookups (one per stage: its last op) waits until all 9 have been asked for
    // (or 10 s, so a regression fails instead of hanging): planning stage after stage would ask one by one
    java.util.concurrent.CountDownLatch allAsked = new java.util.concurrent.CountDownLatch(9);
    java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger mostInFlight = new java.util.concurrent.atomic.AtomicInteger();
    java.util.List<String> asked = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    dev.stagefarm.coordinator.port.CacheRecords gated = key -> {
      asked.add(key.hex());
      mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      allAsked.countDown();
      try {
        allAsked.await(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
      return records.find(key);
    };
    BuildPlan warm = new DockerfilePlanner(content, gated, resolver).plan("b2", SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8(fanout)).build());

    assertThat(mostInFlight.get()).isGreaterThanOrEqualTo(9);
    List<String> lastKeys = cold.stages().stream().map(s -> keys(s).getLast()).toList();
    assertThat(asked.subList(0, 9)).containsExactlyInAnyOrderElementsOf(lastKeys);
    assertThat(asked).hasSize(16).doesNotHaveDuplicates();
    // and the results are what stage-by-stage planning made: every stage complete, the last from the others
    assertThat(warm.stages()).allMatch(s -> s.cachedResult().isPresent());
    assertThat(warm.stages().getLast().cachedResult().orElseThrow().layers()).hasSize(8);
  }

  @Test
  void aStageWhoseLastRecordMissesCostsOneLookup() throws Exception {
    String fanout = fanout(8);
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    dev.stagefarm.coordinator.port.CacheRecords counting = key -> {
      asked.incrementAndGet();
      return records.find(key);
    };
    BuildPlan cold = new DockerfilePlanner(content, counting, resolver).plan("b1", SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8(fanout)).build());

    assertThat(cold.stages()).allMatch(s -> s.cachedResult().isEmpty());
    assertThat(asked).hasValue(9); // 9 stages, 16 ops: the gathering stage's 8 COPYs cost one request
  }

  @Test
  void noMoreLookupsThanTheLimitAreInFlightAtOnce() throws Exception {
    String fanout = fanout(40);
    java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger mostInFlight = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    dev.stagefarm.coordinator.port.CacheRecords slow = key -> {
      asked.incrementAndGet();
      mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        Thread.sleep(20); // long enough for the others to pile up behind the limit
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
      return records.find(key);
    };
    new DockerfilePlanner(content, slow, resolver, DockerfilePlanner.hostPlatform(), ContextManifests.Limits.DEFAULT, 4)
        .plan("b1", SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8(fanout)).build());

    assertThat(asked).hasValue(41);
    assertThat(mostInFlight.get()).isBetween(1, 4);
  }

  @Test
  void aCacheThatCannotBeReadFailsThePlanNamingTheStageAndTheCause() {
    dev.stagefarm.coordinator.port.CacheRecords unreachable = key -> {
      throw new java.io.IOException("GET cache/" + key.hex() + ": connection refused");
    };
    DockerfilePlanner planner = new DockerfilePlanner(content, unreachable, resolver);

    assertThatThrownBy(() -> planner.plan("b1", SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("FROM busybox AS app\nRUN echo hi\n")).build()))
        .isInstanceOf(RuntimeException.class)
        .hasMessageStartingWith("reading the op cache for stage app failed: GET cache/")
        .hasMessageEndingWith(": connection refused");
  }

  /** {@code n} stages of one RUN each, gathered by a stage of {@code n} COPY --from. */
  static String fanout(int n) {
    StringBuilder fanout = new StringBuilder();
    for (int i = 1; i <= n; i++) {
      fanout.append("FROM busybox AS s").append(i).append("\nRUN echo ").append(i).append(" > /out\n");
    }
    fanout.append("FROM scratch\n");
    for (int i = 1; i <= n; i++) {
      fanout.append("COPY --from=s").append(i).append(" /out /").append(i).append('\n');
    }
    return fanout.toString();
  }

  @Test
  void aStageOnAStageIsCompletedFromRecordsOnlyWhenItsBaseStageIs() throws Exception {
    String dockerfile = "FROM busybox AS a\nRUN echo a\nFROM a AS b\nRUN echo b\n";
    BuildPlan cold = plan(dockerfile, "b", "");
    String bKey = keys(cold.stage("1-b")).get(0);
    record(bKey, layer("3"));
    assertThat(plan(dockerfile, "b", "").stage("1-b").cachedResult()).isEmpty(); // a is not cached

    record(keys(cold.stage("0-a")).get(0), layer("2"));
    BuildPlan warm = plan(dockerfile, "b", "");
    assertThat(warm.stage("1-b").cachedResult().orElseThrow().layers())
        .containsExactly(layer("1"), layer("2"), layer("3"));
  }

  @Test
  void aNoCacheBuildCompletesNothingFromRecords() throws Exception {
    String dockerfile = "FROM busybox\nRUN true\n";
    String key = keys(plan(dockerfile, "", "").stages().get(0)).get(0);
    record(key, layer("2"));
    BuildPlan noCache =
        planner.plan("b1", SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8(dockerfile)).setNoCache(true).build());
    assertThat(noCache.stages().get(0).cachedResult()).isEmpty();
    assertThat(plan(dockerfile, "", "").stages().get(0).cachedResult()).isPresent();
  }

  @Test
  void buildArgsUsedByARunChangeItsKey() throws Exception {
    String dockerfile = "FROM busybox\nARG V=1\nRUN echo hi\n";
    BuildPlan one = plan(dockerfile, "", "");
    BuildPlan two =
        planner.plan(
            "b2",
            SubmitBuildRequest.newBuilder()
                .setDockerfile(ByteString.copyFromUtf8(dockerfile))
                .putBuildArgs("V", "2")
                .build());
    assertThat(keys(two.stages().get(0)).get(1)).isNotEqualTo(keys(one.stages().get(0)).get(1));
  }

  @Test
  void userErrorsNameTheCause() {
    assertThatThrownBy(() -> plan(CLIENT_SERVER, "nope", context("c")))
        .isInstanceOf(PlanningException.class)
        .hasMessageContaining("nope");
    assertThatThrownBy(() -> plan("FROM busybox\nFRM x\n", "", ""))
        .isInstanceOf(PlanningException.class)
        .hasMessageStartingWith("Dockerfile:2:");
    assertThatThrownBy(() -> plan("FROM busybox\nCOPY missing.txt /\n", "", context("c")))
        .isInstanceOf(PlanningException.class)
        .hasMessage("Dockerfile:2: COPY failed: \"missing.txt\" not found in the build context");
    assertThatThrownBy(() -> plan("FROM missing-image\n", "", ""))
        .isInstanceOf(PlanningException.class)
        .hasMessage("image missing-image not found");
  }

  /** The cache keys of the build's last stage. */
  List<String> lastKeys(String dockerfile, String context) throws PlanningException {
    BuildPlan plan = plan(dockerfile, "", context);
    return keys(plan.stages().get(plan.stages().size() - 1));
  }

  @Test
  void aContextBindMountKeysTheRunByTheFilesUnderItsSource() throws Exception {
    String dockerfile = "FROM busybox\nRUN --mount=type=bind,source=client.txt,target=/c cat /c > /out\n";
    List<String> before = lastKeys(dockerfile, context("c", "s"));

    assertThat(lastKeys(dockerfile, context("d", "s"))).isNotEqualTo(before);
    // a file the mount does not reach leaves the key alone
    assertThat(lastKeys(dockerfile, context("c", "t"))).isEqualTo(before);
    // without source= the whole context is mounted
    String wholeContext = "FROM busybox\nRUN --mount=type=bind,target=/ctx ls /ctx\n";
    assertThat(lastKeys(wholeContext, context("c", "t"))).isNotEqualTo(lastKeys(wholeContext, context("c", "s")));
  }

  @Test
  void aFromMountKeysTheRunByThatStageOrImage() throws Exception {
    String fromStage =
        """
        FROM busybox AS src
        COPY client.txt /
        FROM busybox
        RUN --mount=type=bind,from=src,target=/s cat /s/client.txt
        """;
    assertThat(lastKeys(fromStage, context("d"))).isNotEqualTo(lastKeys(fromStage, context("c")));

    String seededCache = fromStage.replace("type=bind", "type=cache");
    assertThat(lastKeys(seededCache, context("d"))).isNotEqualTo(lastKeys(seededCache, context("c")));

    String fromImage = "FROM busybox\nRUN --mount=type=bind,from=tools,target=/t /t/bin/tool\n";
    List<String> before = lastKeys(fromImage, context("c"));
    digests.put("tools", "sha256:" + "7".repeat(64));
    assertThat(lastKeys(fromImage, context("c"))).isNotEqualTo(before);
  }

  @Test
  void secretAndTmpfsMountsCountByTheirOptionsOnly() throws Exception {
    String secret = "FROM busybox\nRUN --mount=type=secret,id=token,target=/run/t cat /run/t\n";
    assertThat(lastKeys(secret.replace("id=token", "id=other"), context("c"))).isNotEqualTo(lastKeys(secret, context("c")));
    // a context change never reaches a secret or tmpfs RUN
    assertThat(lastKeys(secret, context("d"))).isEqualTo(lastKeys(secret, context("c")));
    String tmpfs = "FROM busybox\nRUN --mount=type=tmpfs,target=/tmp ls /tmp\n";
    assertThat(lastKeys(tmpfs.replace("/tmp ", "/scratch "), context("c"))).isNotEqualTo(lastKeys(tmpfs, context("c")));
    assertThat(lastKeys(tmpfs, context("d"))).isEqualTo(lastKeys(tmpfs, context("c")));
  }

  @Test
  void onbuildTriggersOfABaseImageAreTheFirstOpsOfTheChain() throws Exception {
    onBuild.put("app-base", List.of("COPY client.txt /app/"));
    String dockerfile = "FROM app-base\nRUN cat /app/client.txt\n";
    List<String> before = lastKeys(dockerfile, context("c"));
    assertThat(before).hasSize(2); // the trigger, then the stage's own RUN

    assertThat(lastKeys(dockerfile, context("d"))).doesNotContainAnyElementsOf(before);
    assertThat(lastKeys(dockerfile, context("c", "t"))).isEqualTo(before);
    onBuild.put("app-base", List.of("COPY server.txt /app/"));
    assertThat(lastKeys(dockerfile, context("c"))).doesNotContainAnyElementsOf(before);

    // the trigger is an op with a key like any other: with every record the stage is complete
    List<String> keys = lastKeys(dockerfile, context("c"));
    record(keys.get(0), layer("2"));
    assertThat(plan(dockerfile, "", context("c")).stages().get(0).cachedResult()).isEmpty();
    record(keys.get(1), layer("3"));
    assertThat(plan(dockerfile, "", context("c")).stages().get(0).cachedResult().orElseThrow().layers())
        .containsExactly(layer("1"), layer("2"), layer("3"));

    onBuild.put("app-base", List.of("COPY missing.txt /app/"));
    assertThatThrownBy(() -> plan("\n" + dockerfile, "", context("c")))
        .isInstanceOf(PlanningException.class)
        .hasMessage(
            "Dockerfile:2: ONBUILD trigger \"COPY missing.txt /app/\" of base image localhost/app-base@" + BUSYBOX_DIGEST
                + ": COPY failed: \"missing.txt\" not found in the build context");
  }

  @Test
  void onbuildTriggersCopyingFromAStageOrImageBecomeInputsOrAClearError() throws Exception {
    onBuild.put("app-base", List.of("COPY --from=build /out /app/out", "COPY --from=tools /bin/tool /bin/"));
    String dockerfile =
        """
        FROM busybox AS build
        COPY client.txt /out
        FROM app-base
        COPY --from=build /out /copy
        """;
    BuildPlan plan = plan(dockerfile, "", context("c"));
    PlannedStage app = plan.stages().get(1);
    assertThat(app.stageInputs()).containsExactly(java.util.Map.entry("stage:0-build", "0-build"));
    assertThat(app.imageInputs()).containsOnlyKeys("image:localhost/tools@" + BUSYBOX_DIGEST);
    assertThat(app.program().inputs()).extracting(ProgramInput::id)
        .containsExactly("stage:0-build", "image:localhost/tools@" + BUSYBOX_DIGEST);
    assertThat(app.dependsOn()).containsExactly("0-build");

    // the trigger's source is in the chain: a new tools image changes the stage's keys
    digests.put("tools", "sha256:" + "7".repeat(64));
    assertThat(keys(plan(dockerfile, "", context("c")).stages().get(1))).isNotEqualTo(keys(app));

    // a stage the target does not otherwise need was pruned before the triggers were known
    assertThatThrownBy(() -> plan("FROM busybox AS build\nRUN true\nFROM app-base\nRUN true\n", "", context("c")))
        .isInstanceOf(PlanningException.class)
        .hasMessageStartingWith("Dockerfile:3: ONBUILD trigger \"COPY --from=build /out /app/out\" of base image"
            + " localhost/app-base@" + BUSYBOX_DIGEST + ": stage \"build\" is not built before stage \"stage-1\"");
  }

  @Test
  void aBaseStagesOnbuildCopyFromIsKeyedByItsSourceStage() throws Exception {
    String dockerfile =
        """
        FROM busybox AS build
        COPY client.txt /out
        FROM busybox AS base
        ONBUILD COPY --from=build /out /out
        FROM base
        RUN cat /out
        """;
    BuildPlan plan = plan(dockerfile, "", context("c"));
    assertThat(plan.stages().get(2).stageInputs()).containsValue("0-build");
    // the trigger's COPY --from follows the build stage's key, and so does the RUN after it
    assertThat(lastKeys(dockerfile, context("d"))).doesNotContainAnyElementsOf(lastKeys(dockerfile, context("c")));
  }

  @Test
  void anAddOfAUrlWithoutChecksumNeverSharesAKeyWithAnotherBuild() throws Exception {
    String unverified = "FROM busybox\nADD https://example.com/tool.tgz /opt/\nRUN ls /opt\n";
    List<String> first = keys(plan("b1", unverified, "", context("c")).stages().get(0));
    List<String> second = keys(plan("b2", unverified, "", context("c")).stages().get(0));
    assertThat(second.get(0)).isNotEqualTo(first.get(0));
    assertThat(second.get(1)).isNotEqualTo(first.get(1)); // and what follows it

    String verified =
        "FROM busybox\nADD --checksum=sha256:" + "a".repeat(64) + " https://example.com/tool.tgz /opt/\n";
    assertThat(keys(plan("b2", verified, "", context("c")).stages().get(0)))
        .isEqualTo(keys(plan("b1", verified, "", context("c")).stages().get(0)));
  }
}
