package dev.stagefarm.cli.e2e;

import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The workers' events on a farm's events topic, read from the beginning, for tests that count what ran. */
final class FarmEvents {
  private FarmEvents() {}

  /** Every event of the given builds on the events topic, by build. */
  static Map<String, List<StageEvent>> of(String bootstrap, List<String> builds) throws Exception {
    Map<String, List<StageEvent>> byBuild = new ConcurrentHashMap<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(Topics.EVENTS).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (builds.contains(record.key())) {
            byBuild.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(StageEvent.parseFrom(record.value()));
          }
        }
      }
    }
    return byBuild;
  }
}
