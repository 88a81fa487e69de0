package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.oci.store.StoredObject;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.Descriptor;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.SignedCacheRecord;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Farm parts trust only each other (docs/security.md, "Farm parts"), through the real broker, S3
 * server, coordinator and runc workers: a forged event does not complete a stage, and a cache
 * record edited in the bucket is not served.
 */
class FarmTrustEndToEndTest {
  private static final String ATTACKER_CONFIG =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/evil\"]},"
          + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

  @Test
  void aForgedCompletedEventIsIgnoredAndTheBuildFinishesWithTheRealResult(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    ScannedContext context = context(dir, "FROM %s\nRUN sleep 3 && echo real > /r.txt\nCMD [\"/real\"]\n"
        .formatted(FarmUnderTest.busybox()));
    BuildClient client = FarmUnderTest.client();
    client.upload(context);
    long ignoredBefore = farm.coordinator().unauthenticatedEvents();
    BuildStatus submitted = client.submit(request(dir, context));

    AtomicBoolean forged = new AtomicBoolean();
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    BuildStatus done = client.watch(submitted.getBuildId(), progress -> {
      if (progress.hasStage() && progress.getStage().getState() == StageState.STAGE_RUNNING
          && forged.compareAndSet(false, true)) {
        StageStatus stage = progress.getStage();
        // the attacker knows the build, stage and attempt (they are in every event on the topic)
        sends.add(CompletableFuture.runAsync(() -> forgeCompleted(farm, submitted.getBuildId(), stage)));
      }
    });
    sends.forEach(CompletableFuture::join);

    assertThat(forged).isTrue();
    assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(done.getStages(0).getState()).isEqualTo(StageState.STAGE_DONE);
    assertThat(done.getStages(0).getWorkerId()).startsWith("worker-");
    assertThat(farm.coordinator().unauthenticatedEvents()).isGreaterThanOrEqualTo(ignoredBefore + 2);
    assertThat(exportedConfig(client, done.getBuildId())).contains("/real").doesNotContain("/evil");
  }

  @Test
  void aCacheRecordEditedInTheBucketIsNotServedAndTheOpRunsAgain(@TempDir Path dir) throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    ScannedContext context = context(dir, "FROM %s\nRUN echo %s > /r.txt\n"
        .formatted(FarmUnderTest.busybox(), UUID.randomUUID()));
    BuildClient client = FarmUnderTest.client();
    client.upload(context);
    try (BlobStore store = BlobStore.connect(new S3Config(farm.s3Endpoint(), EmbeddedS3.DEFAULT_ACCESS_KEY,
        EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedFarm.BUCKET, null))) {
      Set<String> before = recordKeys(store);
      BuildStatus first = build(client, dir, context, new ArrayList<>());
      assertThat(first.getStages(0).getState()).isEqualTo(StageState.STAGE_DONE);
      Set<String> written = recordKeys(store);
      written.removeAll(before);
      assertThat(written).hasSize(1); // the RUN's record
      String key = written.iterator().next();

      // untouched, the record completes the stage at planning
      assertThat(build(client, dir, context, new ArrayList<>()).getStages(0).getState()).isEqualTo(StageState.STAGE_CACHED);

      // the layer swapped, the writer's MAC kept
      SignedCacheRecord genuine = SignedCacheRecord.parseFrom(store.getRecord(key).orElseThrow());
      CacheRecord edited = CacheRecord.parseFrom(genuine.getPayload()).toBuilder().setLayer(plantedLayer()).build();
      store.putRecord(key, genuine.toBuilder().setPayload(edited.toByteString()).build().toByteArray());
      List<BuildProgress> ops = new ArrayList<>();
      BuildStatus keptMac = build(client, dir, context, ops);
      assertThat(keptMac.getStages(0).getState()).isEqualTo(StageState.STAGE_DONE);
      assertThat(ops).filteredOn(BuildProgress::hasInstruction).extracting(p -> p.getInstruction().getCached())
          .containsOnly(false);

      // the layer swapped and a MAC made with a key outside the farm
      FarmKeys.Seal seal = FarmKeys.generate().seal(FarmKeys.Purpose.CACHE_RECORD, edited.toByteArray());
      store.putRecord(key, SignedCacheRecord.newBuilder().setPayload(edited.toByteString()).setKeyId(seal.keyId())
          .setMac(ByteString.copyFrom(seal.mac())).build().toByteArray());
      ops.clear();
      BuildStatus foreignKey = build(client, dir, context, ops);
      assertThat(foreignKey.getStages(0).getState()).isEqualTo(StageState.STAGE_DONE);
      assertThat(ops).filteredOn(BuildProgress::hasInstruction).extracting(p -> p.getInstruction().getCached())
          .containsOnly(false);
    }
  }

  private static void forgeCompleted(EmbeddedFarm farm, String buildId, StageStatus stage) {
    StageEvent event = StageEvent.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(buildId)
        .setStageId(stage.getStageId())
        .setAttempt(stage.getAttempt())
        .setWorkerId("attacker")
        .setTimestampMs(System.currentTimeMillis())
        .setCompleted(StageEvent.Completed.newBuilder().setResult(ImageState.newBuilder()
            .setConfigJson(ByteString.copyFromUtf8(ATTACKER_CONFIG))
            .setOrigin("stage:" + stage.getName())))
        .build();
    try (var producer = new KafkaProducer<String, byte[]>(Map.of("bootstrap.servers", farm.kafkaBootstrap()),
        new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(Topics.EVENTS, buildId, event.toByteArray())).get();
      ProducerRecord<String, byte[]> wrongKey = new ProducerRecord<>(Topics.EVENTS, buildId, event.toByteArray());
      FarmKeys.generate().headers(FarmKeys.Purpose.EVENT, event.toByteArray()).forEach(wrongKey.headers()::add);
      producer.send(wrongKey).get();
    } catch (Exception e) {
      throw new AssertionError("forging an event failed", e);
    }
  }

  /** A layer the attacker chose: what the record would make a later build stack. */
  private static Layer plantedLayer() {
    return Layer.newBuilder()
        .setBlob(Descriptor.newBuilder().setMediaType("application/vnd.oci.image.layer.v1.tar+gzip")
            .setDigest("sha256:" + "e".repeat(64)).setSize(42))
        .setDiffId("sha256:" + "f".repeat(64))
        .build();
  }

  private static Set<String> recordKeys(BlobStore store) throws Exception {
    Set<String> keys = new HashSet<>();
    for (StoredObject object : store.list("cache/")) {
      keys.add(object.key().substring("cache/".length()));
    }
    return keys;
  }

  private static BuildStatus build(BuildClient client, Path dir, ScannedContext context, List<BuildProgress> progress)
      throws Exception {
    BuildStatus submitted = client.submit(request(dir, context));
    List<BuildProgress> seen = new ArrayList<>();
    BuildStatus done = client.watch(submitted.getBuildId(), p -> {
      synchronized (seen) {
        seen.add(p);
      }
    });
    assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
    synchronized (seen) {
      progress.addAll(seen);
    }
    return done;
  }

  private static ScannedContext context(Path dir, String dockerfile) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
    return ContextScanner.scan(ctx);
  }

  private static SubmitBuildRequest request(Path dir, ScannedContext context) throws Exception {
    return SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFrom(Files.readAllBytes(dir.resolve("ctx/Dockerfile"))))
        .setContextManifest(context.manifestDigest().toString())
        .build();
  }

  /** The image config JSON of the build's result, as the client exports it. */
  private static String exportedConfig(BuildClient client, String buildId) throws Exception {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    client.export(buildId, "oci", tar);
    // the config blob is small JSON inside the tar: finding the CMD text in the archive bytes is enough
    return tar.toString(StandardCharsets.ISO_8859_1);
  }
}
