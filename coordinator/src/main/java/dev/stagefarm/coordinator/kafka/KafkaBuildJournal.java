package dev.stagefarm.coordinator.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.wire.ContentMessages;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildRecord;
import dev.stagefarm.proto.v1.ImageState;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Build records on the compacted {@link Topics#BUILDS} topic, keyed by build id. */
public final class KafkaBuildJournal implements BuildJournal {
  private static final Logger log = LoggerFactory.getLogger(KafkaBuildJournal.class);
  private final String bootstrapServers;
  private final KafkaClientProperties security;
  private final KafkaProducer<String, byte[]> producer;

  public KafkaBuildJournal(String bootstrapServers) {
    this(bootstrapServers, KafkaClientProperties.none());
  }

  public KafkaBuildJournal(String bootstrapServers, KafkaClientProperties security) {
    this.bootstrapServers = bootstrapServers;
    this.security = security;
    this.producer = KafkaClients.producer(bootstrapServers, security, "stagefarm-coordinator-builds");
  }

  @Override
  public void record(JournalEntry entry) {
    BuildRecord record = toProto(entry);
    try {
      // wait for the ack: a record the coordinator believes durable must be
      producer
          .send(new ProducerRecord<>(Topics.BUILDS, record.getBuildId(), record.toByteArray()))
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.error("recording build {} on {} failed: {}", record.getBuildId(), Topics.BUILDS, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void forget(String buildId) {
    try {
      producer.send(new ProducerRecord<>(Topics.BUILDS, buildId, null)).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.error("tombstoning build {} on {} failed: {}", buildId, Topics.BUILDS, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
            latest.put(record.key(), fromProto(BuildRecord.parseFrom(record.value())));
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
            .setManifestDigest(entry.status().getImageDigest());
    entry.stageResults().forEach((stage, result) -> record.putStageResults(stage, ContentMessages.toProto(result)));
    return record.build();
  }

  /** @throws IllegalArgumentException when a stage result in it has a malformed digest */
  static JournalEntry fromProto(BuildRecord record) {
    Map<String, StageResult> results = new LinkedHashMap<>();
    for (Map.Entry<String, ImageState> result : new java.util.TreeMap<>(record.getStageResultsMap()).entrySet()) {
      results.put(result.getKey(), ContentMessages.fromProto(result.getValue()));
    }
    return new JournalEntry(record.getBuildId(), record.getRequest(), record.getStatus(), results);
  }

  @Override
  public void close() {
    producer.close();
  }
}
