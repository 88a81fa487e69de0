package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.Descriptor;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Instruction;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DockerfilePlannerTest {
  static final String BUSYBOX_DIGEST = "sha256:" + "b".repeat(64);

  final Map<String, ContextManifest> manifests = new HashMap<>();
  final Map<String, CacheRecord> records = new HashMap<>();
  final PlanningStore store =
      new PlanningStore() {
        @Override
        public ContextManifest contextManifest(String digest) {
          return manifests.get(digest);
        }

        @Override
        public Optional<CacheRecord> cacheRecord(String key) {
          return Optional.ofNullable(records.get(key));
        }
      };
  final BaseImageResolver resolver =
      (reference, platform) -> {
        if (reference.contains("missing")) {
          throw new PlanningException("image " + reference + " not found");
        }
        return new BaseImageResolver.ResolvedImage(
            "localhost/busybox@" + BUSYBOX_DIGEST,
            BUSYBOX_DIGEST,
            ImageState.newBuilder()
                .addLayers(layer("1"))
                .setConfigJson(ByteString.copyFromUtf8("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"))
                .setOrigin(reference)
                .build());
      };
  final DockerfilePlanner planner = new DockerfilePlanner(store, resolver);

  static Layer layer(String c) {
    return Layer.newBuilder()
        .setBlob(Descriptor.newBuilder().setDigest("sha256:" + c.repeat(64)).setSize(1))
        .setDiffId("sha256:" + c.repeat(64))
        .build();
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
    ContextManifest manifest =
        ContextManifest.newBuilder()
            .addEntries(file("client.txt", clientContent))
            .addEntries(file("server.txt", "s"))
            .build();
    String digest = "sha256:" + Integer.toHexString(manifest.hashCode()).repeat(16).substring(0, 64).replaceAll("[^0-9a-f]", "0");
    manifests.put(digest, manifest);
    return digest;
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
    return planner.plan(
        "b1",
        SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8(dockerfile))
            .setDockerfileName("Dockerfile")
            .setTarget(target)
            .setContextManifest(context)
            .build());
  }

  static List<String> keys(PlannedStage stage) {
    return stage.instructions().stream().map(Instruction::getCacheKey).toList();
  }

  @Test
  void prunesToTheTargetAndWiresStageInputs() throws Exception {
    BuildPlan plan = plan(CLIENT_SERVER, "client", context("c"));
    assertThat(plan.stages()).extracting(PlannedStage::id).containsExactly("0-base", "1-build-client", "3-client");
    assertThat(plan.targetStageId()).isEqualTo("3-client");
    assertThat(plan.stage("1-build-client").baseStageId()).contains("0-base");
    assertThat(plan.stage("3-client").stageInputs()).containsOnlyKeys("1-build-client");
    assertThat(plan.stage("3-client").stageInputs().get("1-build-client")).contains("build-client", "1");
    assertThat(plan.stage("0-base").base().orElseThrow().getOrigin()).isEqualTo("busybox");
    assertThat(plan.stage("3-client").dependsOn()).containsExactly("1-build-client");
    assertThat(plan.contextManifestKey()).startsWith("context/sha256/");
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
    records.put(
        baseKeys.get(0),
        CacheRecord.newBuilder().setCacheKey(baseKeys.get(0)).setLayer(layer("2")).setConfigJson(ByteString.copyFromUtf8("{}")).build());

    BuildPlan second = plan(CLIENT_SERVER, "client", context("c"));
    ImageState cached = second.stage("0-base").cachedResult().orElseThrow();
    assertThat(cached.getLayersList()).containsExactly(layer("1"), layer("2"));
    assertThat(second.stage("1-build-client").cachedResult()).isEmpty();
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
}
