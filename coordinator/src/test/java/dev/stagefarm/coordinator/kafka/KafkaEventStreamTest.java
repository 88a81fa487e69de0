package dev.stagefarm.coordinator.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.WorkerEvent;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.testkit.KafkaFixture;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The coordinator's event stream on a real broker: a batch's MACs are checked on several threads,
 * and the events still come out in the order they were written, the forged ones dropped.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // bounds a hang only
class KafkaEventStreamTest {

  @Test
  void aLargeBatchIsCheckedInParallelAndHandedOnInOrderWithoutTheForgedEvents() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Properties admin = new Properties();
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin a = Admin.create(admin)) {
      if (!a.listTopics().names().get(30, TimeUnit.SECONDS).contains(Topics.EVENTS)) {
        a.createTopics(List.of(new NewTopic(Topics.EVENTS, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
      }
    }
    dev.stagefarm.coordinator.TestRoleKeys keys = dev.stagefarm.coordinator.TestRoleKeys.generate();
    FarmKeys coordinator = keys.coordinator();
    FarmKeys worker = keys.worker();
    // the coordinator's own key signs tasks, never events: what it signs must not pass as a worker's
    FarmKeys forger = coordinator;

    String buildId = "events-" + UUID.randomUUID();
    int events = 400;
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 50); // one batch on the wire: a large poll on the other side
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < events; i++) {
        byte[] value = StageEvent.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId(buildId)
            .setStageId("s" + i).setAttempt(1).setWorkerId("w").setTimestampMs(System.currentTimeMillis())
            .setStarted(StageEvent.Started.getDefaultInstance()).build().toByteArray();
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.EVENTS, buildId, value);
        if (i % 10 == 7) {
          record.headers().add(FarmKeys.KEY_ID_HEADER, "not-a-key".getBytes());
          record.headers().add(FarmKeys.MAC_HEADER, new byte[64]);
        } else if (i % 10 == 3) {
          try {
            forger.headers(FarmKeys.Purpose.EVENT, value).forEach(record.headers()::add);
          } catch (IllegalStateException noEventKey) {
            // the coordinator's ring holds no key that signs events: sent unsigned, as a forger would
          }
        } else {
          worker.headers(FarmKeys.Purpose.EVENT, value).forEach(record.headers()::add);
        }
        producer.send(record);
      }
      producer.flush();
    }

    List<String> handed = new CopyOnWriteArrayList<>();
    try (KafkaEventStream stream = new KafkaEventStream(bootstrap, "event-stream-test-" + UUID.randomUUID(),
        coordinator, (WorkerEvent event) -> {
          if (event.buildId().equals(buildId)) {
            handed.add(event.stageId());
          }
        }).start()) {
      int authentic = events - 2 * (events / 10);
      for (int i = 0; i < 3000 && handed.size() < authentic; i++) {
        Thread.sleep(20);
      }
      Thread.sleep(300); // nothing more comes: the forged ones were dropped, not late
      List<String> expected = java.util.stream.IntStream.range(0, events)
          .filter(i -> i % 10 != 7 && i % 10 != 3).mapToObj(i -> "s" + i).toList();
      assertThat(handed).containsExactlyElementsOf(expected);
      assertThat(stream.unauthenticatedEvents()).isEqualTo(2L * (events / 10));
      if (Runtime.getRuntime().availableProcessors() > 1) {
        // a batch was large enough to be split: a checker thread ran its slice
        assertThat(Thread.getAllStackTraces().keySet()).anyMatch(t -> t.getName().startsWith("stagefarm-signatures-"));
      }
    }
  }
}
