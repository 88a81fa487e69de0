package dev.stagefarm.coordinator.kafka;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.WriteFailure;
import dev.stagefarm.coordinator.wire.ContentMessages;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildRecord;
import dev.stagefarm.proto.v1.BuildStageRecord;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.PinnedImage;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Build records on the compacted {@link Topics#BUILDS} topic, written through the active
 * coordinator's fenced producer (acks=all, in a transaction: once {@link #record} returns the
 * record is durable, and a coordinator that was taken over cannot write one) and read back
 * committed-only.
 *
 * <p>A build is a header ({@link BuildRecord}, keyed by build id: request, status without its
 * stages, pinned images) and one {@link BuildStageRecord} per stage (keyed {@code <build
 * id>/<stage id>}: its status and result), so no record grows with a build's width (a whole
 * 10,000-stage build in one record would be far over Kafka's 1 MiB limit) and a write carries
 * only the stages that changed since the last committed one, in one transaction with the header
 * when that changed too. Compaction keeps each key's latest. docs/protocol.md, "Build journal".
 */
public final class KafkaBuildJournal implements BuildJournal {
  private static final Logger log = LoggerFactory.getLogger(KafkaBuildJournal.class);
  /**
   * Dockerfiles up to this size travel inside the record; larger ones (up to SubmitBuild's 4 MiB)
   * are stored under {@code context/sha256/…} and the record names their digest, so a record stays
   * far below Kafka's 1 MiB default limit.
   */
  public static final int INLINE_DOCKERFILE_LIMIT = 64 << 10;

  private final String bootstrapServers;
  private final KafkaClientProperties security;
  private final FencedProducer producer;
  private final ContentStore content;
  /** Dockerfiles already stored, by build id: a build's many records store it once. */
  private final Map<String, Digest> storedDockerfiles = new ConcurrentHashMap<>();
  /** What is committed of each build (written or replayed): what a record need not write again. */
  private final Map<String, Written> written = new ConcurrentHashMap<>();

  /** A build's committed header and stages, and the stages handed over but not committed yet. */
  private static final class Written {
    byte[] header = new byte[0];
    final Map<String, StageWrite> stages = new java.util.HashMap<>();
    /**
     * Stages of partial entries whose write has not been committed (a round that was aborted): the
     * next write carries them again, since the entry that named them is not handed over again.
     */
    final Map<String, StageWrite> unwritten = new LinkedHashMap<>();
  }

  /** A stage as last committed. */
  private record StageWrite(dev.stagefarm.proto.v1.StageStatus status, StageResult result, int order) {
    boolean sameAs(StageWrite other) {
      return other != null && order == other.order && status.equals(other.status)
          && (result == other.result || java.util.Objects.equals(result, other.result));
    }
  }

  /**
   * @param producer shared with the task queue; closed by its owner
   * @param content where large Dockerfiles go
   */
  public KafkaBuildJournal(String bootstrapServers, FencedProducer producer, ContentStore content) {
    this(bootstrapServers, KafkaClientProperties.none(), producer, content);
  }

  /** @param security the coordinator's Kafka SASL/TLS settings (for replay) */
  public KafkaBuildJournal(String bootstrapServers, KafkaClientProperties security, FencedProducer producer,
      ContentStore content) {
    this.bootstrapServers = bootstrapServers;
    this.security = security;
    this.producer = producer;
    this.content = content;
  }

  /** The key of a stage's record: never a build id (those have no '/'). */
  static String stageKey(String buildId, String stageId) {
    return buildId + "/" + stageId;
  }

  @Override
  public void record(JournalEntry entry) {
    String buildId = entry.buildId();
    BuildRecord.Builder record = header(entry).toBuilder();
    SubmitBuildRequest request = entry.request();
    if (request.getDockerfile().size() > INLINE_DOCKERFILE_LIMIT) {
      record.setRequest(request.toBuilder().clearDockerfile())
          .setDockerfileDigest(storeDockerfile(buildId, request).toString());
    }
    if (entry.status().getFinishedMs() > 0) {
      storedDockerfiles.remove(buildId);
    }
    Written before = written.computeIfAbsent(buildId, id -> new Written());
    byte[] header = record.build().toByteArray();
    boolean headerChanged = !java.util.Arrays.equals(header, before.header);
    Map<String, StageWrite> changed = changedStages(entry, before);
    if (!headerChanged && changed.isEmpty()) {
      return; // all of it is committed already
    }
    producer.inTransaction(() -> {
      // the stages first: a reader sees a header only with every stage it counts (one transaction anyway)
      changed.forEach((stageId, stage) -> producer.send(
          new ProducerRecord<>(Topics.BUILDS, stageKey(buildId, stageId), stageRecord(buildId, stage).toByteArray())));
      if (headerChanged) {
        producer.send(new ProducerRecord<>(Topics.BUILDS, buildId, header));
      }
      // remembered once committed: an aborted round (the outbox writes it again item by item) writes it all again
      producer.afterCommit(() -> {
        before.header = header;
        before.stages.putAll(changed);
        changed.forEach(before.unwritten::remove);
      });
    });
  }

  @Override
  public boolean takesPartialEntries() {
    return true;
  }

  /**
   * The entry's stages that differ from their committed records: of a whole entry, every stage
   * compared; of a partial one, its stages and those of earlier partial entries not committed yet.
   */
  private static Map<String, StageWrite> changedStages(JournalEntry entry, Written before) {
    Map<String, StageWrite> changed = new LinkedHashMap<>();
    if (entry.whole()) {
      before.unwritten.clear(); // a whole entry says everything there is to say
      int order = 0;
      for (dev.stagefarm.proto.v1.StageStatus stage : entry.status().getStagesList()) {
        StageWrite now = new StageWrite(stage, entry.stageResults().get(stage.getStageId()), order++);
        if (!now.sameAs(before.stages.get(stage.getStageId()))) {
          changed.put(stage.getStageId(), now);
        }
      }
      before.unwritten.putAll(changed); // until committed: a retry may hand over a partial entry only
      return changed;
    }
    for (dev.stagefarm.proto.v1.StageStatus stage : entry.status().getStagesList()) {
      Integer order = entry.changes().order().get(stage.getStageId());
      if (order == null) {
        throw new IllegalArgumentException("the partial record of build " + entry.buildId() + " has stage "
            + stage.getStageId() + " without its position in the plan");
      }
      before.unwritten.put(stage.getStageId(),
          new StageWrite(stage, entry.stageResults().get(stage.getStageId()), order));
    }
    before.unwritten.forEach((stageId, now) -> {
      if (!now.sameAs(before.stages.get(stageId))) {
        changed.put(stageId, now);
      }
    });
    // the same as committed: nothing left to write of them
    before.unwritten.keySet().retainAll(changed.keySet());
    return changed;
  }

  private static BuildStageRecord stageRecord(String buildId, StageWrite stage) {
    BuildStageRecord.Builder record = BuildStageRecord.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(buildId)
        .setStatus(stage.status())
        .setOrder(stage.order());
    if (stage.result() != null) {
      record.setResult(ContentMessages.toProto(stage.result()));
    }
    return record.build();
  }

  private Digest storeDockerfile(String buildId, SubmitBuildRequest request) {
    Digest known = storedDockerfiles.get(buildId);
    if (known != null) {
      return known;
    }
    try {
      Digest stored = content.putBytes(Namespace.CONTEXT, request.getDockerfile().toByteArray());
      storedDockerfiles.put(buildId, stored);
      return stored;
    } catch (IOException e) {
      throw new WriteFailure(WriteFailure.Kind.RETRIABLE,
          "storing the Dockerfile of build " + buildId + " for its record failed: " + e.getMessage(), e);
    }
  }

  /** The record's request with its Dockerfile read back from the store, when it was stored. */
  private JournalEntry withDockerfile(BuildRecord record, JournalEntry entry) {
    if (record.getDockerfileDigest().isEmpty()) {
      return entry;
    }
    try {
      byte[] dockerfile = content.read(Namespace.CONTEXT, Digest.parse(record.getDockerfileDigest()));
      return entry.withRequest(entry.request().toBuilder().setDockerfile(ByteString.copyFrom(dockerfile)).build());
    } catch (IOException | IllegalArgumentException e) {
      String state = entry.status().getState().name();
      log.error("the Dockerfile {} of build {} ({}) cannot be read back: {}",
          record.getDockerfileDigest(), entry.buildId(), state, e.toString());
      if (entry.status().getFinishedMs() > 0) {
        return entry; // finished: its status is all that is needed
      }
      return new JournalEntry(entry.buildId(), entry.request(),
          entry.status().toBuilder().setState(BuildState.FAILED)
              .setError("could not resume after a coordinator restart: its Dockerfile "
                  + record.getDockerfileDigest() + " could not be read from the content store: " + e.getMessage())
              .build(),
          entry.stageResults(), entry.pinnedImages(), entry.progressEpoch());
    }
  }

  @Override
  public void forget(String buildId) {
    Written known = written.get(buildId);
    java.util.Set<String> stageIds = new java.util.LinkedHashSet<>();
    if (known != null) {
      stageIds.addAll(known.stages.keySet());
      stageIds.addAll(known.unwritten.keySet()); // an aborted write may still have landed (a commit that timed out)
    }
    producer.inTransaction(() -> { // a WriteFailure: the outbox retries
      for (String stageId : stageIds) {
        producer.send(new ProducerRecord<>(Topics.BUILDS, stageKey(buildId, stageId), null));
      }
      producer.send(new ProducerRecord<>(Topics.BUILDS, buildId, null));
      producer.afterCommit(() -> written.remove(buildId));
    });
    storedDockerfiles.remove(buildId);
  }

  @Override
  public Collection<JournalEntry> replay() {
    Map<String, BuildRecord> headers = new LinkedHashMap<>();
    Map<String, Map<String, BuildStageRecord>> stages = new java.util.HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.consumer(bootstrapServers, security, null, "stagefarm-coordinator-replay")) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(Topics.BUILDS, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          read(record, headers, stages);
        }
      }
    }
    Map<String, JournalEntry> latest = new LinkedHashMap<>();
    headers.forEach((buildId, header) -> {
      try {
        JournalEntry entry = withDockerfile(header, fromProto(header, stages.getOrDefault(buildId, Map.of())));
        latest.put(buildId, entry);
        remember(header, entry);
      } catch (IllegalArgumentException e) {
        log.warn("skipping the unreadable build record of {}: {}", buildId, e.getMessage());
      }
    });
    stages.keySet().stream().filter(id -> !headers.containsKey(id)).forEach(id ->
        log.info("ignoring {} stage record(s) of build {}, which has no build record (evicted)",
            stages.get(id).size(), id));
    return latest.values();
  }

  /** One record of the topic into the builds' headers and stages read so far (the latest per key wins). */
  private static void read(ConsumerRecord<String, byte[]> record, Map<String, BuildRecord> headers,
      Map<String, Map<String, BuildStageRecord>> stages) {
    String key = record.key() == null ? "" : record.key();
    int slash = key.indexOf('/');
    if (slash > 0) {
      String buildId = key.substring(0, slash);
      String stageId = key.substring(slash + 1);
      if (record.value() == null) {
        Map<String, BuildStageRecord> of = stages.get(buildId);
        if (of != null) {
          of.remove(stageId);
        }
        return;
      }
      try {
        stages.computeIfAbsent(buildId, id -> new java.util.HashMap<>())
            .put(stageId, BuildStageRecord.parseFrom(record.value()));
      } catch (InvalidProtocolBufferException e) {
        log.warn("skipping an unreadable stage record {}", key);
      }
      return;
    }
    if (record.value() == null) {
      headers.remove(key); // tombstone
      return;
    }
    try {
      headers.put(key, BuildRecord.parseFrom(record.value()));
    } catch (InvalidProtocolBufferException e) {
      log.warn("skipping an unreadable build record for {}", key);
    }
  }

  /** A replayed build's committed records, so that the next write carries only what changes. */
  private void remember(BuildRecord header, JournalEntry entry) {
    if (header.getStageRecords() == 0) {
      return; // a record of the format before per-stage records: the next write replaces it whole
    }
    Written known = new Written();
    known.header = header.toByteArray();
    int order = 0;
    for (dev.stagefarm.proto.v1.StageStatus stage : entry.status().getStagesList()) {
      known.stages.put(stage.getStageId(),
          new StageWrite(stage, entry.stageResults().get(stage.getStageId()), order++));
    }
    written.put(entry.buildId(), known);
  }

  /** The build's header: everything but its stages, which go in stage records. */
  static BuildRecord header(JournalEntry entry) {
    BuildRecord.Builder record =
        BuildRecord.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setBuildId(entry.buildId())
            .setRequest(entry.request())
            .setStatus(entry.status().toBuilder().clearStages())
            .setManifestDigest(entry.status().getImageDigest())
            .setProgressEpoch(entry.progressEpoch())
            .setStageRecords(entry.stageCount());
    entry.pinnedImages().forEach((reference, pin) -> record.putPinnedImages(reference, PinnedImage.newBuilder()
        .setPinnedReference(pin.pinnedReference())
        .setManifestDigest(pin.manifestDigest())
        .setImage(ContentMessages.toProto(pin.image()))
        .build()));
    return record.build();
  }

  /**
   * The entry of a header and its stage records; a header of the older format (no stage records)
   * carries its stages itself.
   *
   * @throws IllegalArgumentException when a stage result in it has a malformed digest
   */
  static JournalEntry fromProto(BuildRecord record, Map<String, BuildStageRecord> stageRecords) {
    Map<String, StageResult> results = new LinkedHashMap<>();
    for (Map.Entry<String, ImageState> result : new java.util.TreeMap<>(record.getStageResultsMap()).entrySet()) {
      results.put(result.getKey(), ContentMessages.fromProto(result.getValue()));
    }
    BuildStatus status = record.getStatus();
    if (record.getStageRecords() > 0) {
      List<BuildStageRecord> ordered = stageRecords.values().stream()
          .sorted(java.util.Comparator.comparingInt(BuildStageRecord::getOrder)).toList();
      if (ordered.size() != record.getStageRecords()) {
        // a stage without a record resumes as not started: it runs (again) when its inputs are there
        log.warn("build {} has {} of its {} stage records", record.getBuildId(), ordered.size(),
            record.getStageRecords());
      }
      BuildStatus.Builder withStages = status.toBuilder().clearStages();
      for (BuildStageRecord stage : ordered) {
        withStages.addStages(stage.getStatus());
        if (stage.hasResult()) {
          results.put(stage.getStatus().getStageId(), ContentMessages.fromProto(stage.getResult()));
        }
      }
      status = withStages.build();
    }
    Map<String, dev.stagefarm.coordinator.port.PinnedImage> pins = new LinkedHashMap<>();
    for (Map.Entry<String, PinnedImage> pin : new java.util.TreeMap<>(record.getPinnedImagesMap()).entrySet()) {
      pins.put(pin.getKey(), new dev.stagefarm.coordinator.port.PinnedImage(
          pin.getValue().getPinnedReference(),
          pin.getValue().getManifestDigest(),
          ContentMessages.fromProto(pin.getValue().getImage())));
    }
    return new JournalEntry(record.getBuildId(), record.getRequest(), status, results, pins, record.getProgressEpoch());
  }

  @Override
  public void close() {}
}
