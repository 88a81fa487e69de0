package dev.stagefarm.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.port.ContentRoots;
import dev.stagefarm.coordinator.port.InMemoryBuildJournal;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheRecordCodec;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.S3Fixture;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Collection against the real (embedded) S3 store; "old" is made by running the collector's clock ahead. */
@ExtendWith(S3Fixture.class)
class StoreCollectorTest {
  static final FarmKeys KEYS = FarmKeys.generate();
  static final StoreCollector.Policy POLICY = new StoreCollector.Policy(Duration.ofDays(7), Duration.ofHours(1));

  static Clock at(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  static Digest put(BlobStore store, Namespace namespace, String content) throws Exception {
    return store.putBytes(namespace, content.getBytes(StandardCharsets.UTF_8)).digest();
  }

  static void putRecord(BlobStore store, CacheKey key, Digest layerBlob) throws Exception {
    Layer layer = Layer.newBuilder().setDiffId(layerBlob.toString())
        .setBlob(dev.stagefarm.proto.v1.Descriptor.newBuilder().setDigest(layerBlob.toString())
            .setMediaType(MediaTypes.OCI_LAYER_TAR_GZIP).setSize(1))
        .build();
    store.putRecord(key.hex(), CacheRecordCodec.encode(key, Optional.of(layer), System.currentTimeMillis(), KEYS));
  }

  @Test
  void deletesOldUnreferencedContentAndKeepsWhatRecordsAndLiveBuildsReachAndWhatIsYoung(BlobStore store)
      throws Exception {
    Digest orphanBlob = put(store, Namespace.BLOBS, "an orphaned layer");
    Digest orphanContext = put(store, Namespace.CONTEXT, "an old context file");
    Digest orphanProgram = put(store, Namespace.PROGRAMS, "an old program");
    Digest cachedLayer = put(store, Namespace.BLOBS, "a layer a cache record names");
    CacheKey liveKey = new CacheKey("1".repeat(64));
    putRecord(store, liveKey, cachedLayer);
    Digest contextFile = put(store, Namespace.CONTEXT, "a file of a running build's context");
    Digest contextManifest = store.putBytes(Namespace.CONTEXT, ContextManifest.newBuilder()
        .addEntries(ContextEntry.newBuilder().setPath("f").setDigest(contextFile.toString()).setSize(1))
        .build().toByteArray()).digest();
    Digest baseLayer = put(store, Namespace.BLOBS, "the base layer of a running build");
    ContentRoots roots = runningBuildRoots(contextManifest, baseLayer);

    // just written: everything is within the grace period, nothing goes
    StoreCollector now = new StoreCollector(store, KEYS, POLICY, Clock.systemUTC());
    StoreCollector.Report young = now.collect(() -> roots, false);
    assertThat(young.objectsDeleted()).isZero();
    assertThat(store.exists(Namespace.BLOBS, orphanBlob)).isTrue();

    // two hours on: past the grace, records still within keep-duration
    StoreCollector later = new StoreCollector(store, KEYS, POLICY, at(Instant.now().plus(Duration.ofHours(2))));
    StoreCollector.Report dry = later.collect(() -> roots, true);
    assertThat(dry.objectsDeleted()).isGreaterThanOrEqualTo(3);
    assertThat(store.exists(Namespace.BLOBS, orphanBlob)).as("a dry run deletes nothing").isTrue();

    later.collect(() -> roots, false);
    assertThat(store.exists(Namespace.BLOBS, orphanBlob)).isFalse();
    assertThat(store.exists(Namespace.CONTEXT, orphanContext)).isFalse();
    assertThat(store.exists(Namespace.PROGRAMS, orphanProgram)).isFalse();
    assertThat(store.exists(Namespace.BLOBS, cachedLayer)).as("named by a live cache record").isTrue();
    assertThat(store.exists(Namespace.CONTEXT, contextManifest)).as("a running build's context").isTrue();
    assertThat(store.exists(Namespace.CONTEXT, contextFile)).isTrue();
    assertThat(store.exists(Namespace.BLOBS, baseLayer)).as("a running build's base layer").isTrue();

    // eight days on: the record is past keep-duration, so it and then its layer go
    StoreCollector week = new StoreCollector(store, KEYS, POLICY, at(Instant.now().plus(Duration.ofDays(8))));
    StoreCollector.Report report = week.collect(() -> roots, false);
    assertThat(report.recordsDeleted()).isGreaterThanOrEqualTo(1);
    assertThat(store.getRecord(liveKey.hex())).isEmpty();
    assertThat(store.exists(Namespace.BLOBS, cachedLayer)).isFalse();
    assertThat(store.exists(Namespace.BLOBS, baseLayer)).as("still running").isTrue();
  }

  @Test
  void anUnsignedCacheRecordKeepsNothingAlive(BlobStore store) throws Exception {
    Digest layer = put(store, Namespace.BLOBS, "named by a forged record");
    CacheKey key = new CacheKey("2".repeat(64));
    Layer forged = Layer.newBuilder().setBlob(dev.stagefarm.proto.v1.Descriptor.newBuilder()
        .setDigest(layer.toString())).build();
    store.putRecord(key.hex(), CacheRecordCodec.encode(key, Optional.of(forged), 0, FarmKeys.generate()));

    new StoreCollector(store, KEYS, POLICY, at(Instant.now().plus(Duration.ofHours(2))))
        .collect(() -> ContentRoots.NONE, false);

    assertThat(store.exists(Namespace.BLOBS, layer)).isFalse();
  }

  /** The roots of a coordinator with one build in flight (no worker takes its stage). */
  static ContentRoots runningBuildRoots(Digest contextManifest, Digest baseLayer) {
    StageResult base = new StageResult(
        List.of(new LayerRef(new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, baseLayer, 1), baseLayer)), new byte[0], "base");
    StageProgram program = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(), List.of(),
        dev.stagefarm.oci.Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "s");
    try (BuildCoordinator coordinator = new BuildCoordinator(Clock.systemUTC(), BuildCoordinator.Settings.DEFAULT,
        new InMemoryTaskQueue(), new InMemoryBuildJournal(),
        (buildId, request) -> new BuildPlan(buildId, List.of(new PlannedStage("0", "0", 0, program, List.of(),
            Optional.of(base), Optional.empty(), Map.of(), Map.of(), Optional.empty())), "0"),
        (target, tags, push) -> "sha256:" + "a".repeat(64))) {
      var status = coordinator.submit(SubmitBuildRequest.newBuilder().setContextManifest(contextManifest.toString()).build());
      assertThat(status.getState()).isEqualTo(BuildState.RUNNING);
      ContentRoots roots = coordinator.contentRoots();
      assertThat(roots.contextManifests()).isEqualTo(Set.of(contextManifest));
      return roots;
    }
  }
}
