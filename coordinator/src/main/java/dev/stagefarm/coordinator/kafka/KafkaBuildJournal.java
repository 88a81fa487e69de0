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
 * Build records on the compacted {@link Topics#BUILDS} topic, keyed by build id, written through
 * the active coordinator's fenced producer (acks=all, in a transaction: once {@link #record}
 * returns the record is durable, and a coordinator that was taken over cannot write one) and read
 * back committed-only.
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

  @Override
  public void record(JournalEntry entry) {
    BuildRecord.Builder record = toProto(entry).toBuilder();
    SubmitBuildRequest request = entry.request();
    if (request.getDockerfile().size() > INLINE_DOCKERFILE_LIMIT) {
      record.setRequest(request.toBuilder().clearDockerfile())
          .setDockerfileDigest(storeDockerfile(entry.buildId(), request).toString());
    }
    if (entry.status().getFinishedMs() > 0) {
      storedDockerfiles.remove(entry.buildId());
    }
    producer.send(new ProducerRecord<>(Topics.BUILDS, entry.buildId(), record.build().toByteArray()));
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
    producer.send(new ProducerRecord<>(Topics.BUILDS, buildId, null)); // a WriteFailure: the outbox retries
    storedDockerfiles.remove(buildId);
  }

  @Override
  public Collection<JournalEntry> replay() {
    Map<String, JournalEntry> latest = new LinkedHashMap<>();
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
          if (record.value() == null) {
            latest.remove(record.key()); // tombstone
            continue;
          }
          try {
            BuildRecord parsed = BuildRecord.parseFrom(record.value());
            latest.put(record.key(), withDockerfile(parsed, fromProto(parsed)));
          } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            log.warn("skipping an unreadable build record for {}", record.key());
          }
        }
      }
    }
    return latest.values();
  }

  static BuildRecord toProto(JournalEntry entry) {
    BuildRecord.Builder record =
        BuildRecord.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setBuildId(entry.buildId())
            .setRequest(entry.request())
            .setStatus(entry.status())
            .setManifestDigest(entry.status().getImageDigest())
            .setProgressEpoch(entry.progressEpoch());
    entry.stageResults().forEach((stage, result) -> record.putStageResults(stage, ContentMessages.toProto(result)));
    entry.pinnedImages().forEach((reference, pin) -> record.putPinnedImages(reference, PinnedImage.newBuilder()
        .setPinnedReference(pin.pinnedReference())
        .setManifestDigest(pin.manifestDigest())
        .setImage(ContentMessages.toProto(pin.image()))
        .build()));
    return record.build();
  }

  /** @throws IllegalArgumentException when a stage result in it has a malformed digest */
  static JournalEntry fromProto(BuildRecord record) {
    Map<String, StageResult> results = new LinkedHashMap<>();
    for (Map.Entry<String, ImageState> result : new java.util.TreeMap<>(record.getStageResultsMap()).entrySet()) {
      results.put(result.getKey(), ContentMessages.fromProto(result.getValue()));
    }
    Map<String, dev.stagefarm.coordinator.port.PinnedImage> pins = new LinkedHashMap<>();
    for (Map.Entry<String, PinnedImage> pin : new java.util.TreeMap<>(record.getPinnedImagesMap()).entrySet()) {
      pins.put(pin.getKey(), new dev.stagefarm.coordinator.port.PinnedImage(
          pin.getValue().getPinnedReference(),
          pin.getValue().getManifestDigest(),
          ContentMessages.fromProto(pin.getValue().getImage())));
    }
    return new JournalEntry(
        record.getBuildId(), record.getRequest(), record.getStatus(), results, pins, record.getProgressEpoch());
  }

  @Override
  public void close() {}
}
