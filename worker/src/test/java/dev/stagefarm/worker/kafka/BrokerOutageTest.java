package dev.stagefarm.worker.kafka;

import static dev.stagefarm.worker.EventWatcher.of;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageEvent.KindCase;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.worker.EventWatcher;
import dev.stagefarm.worker.StageHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The farm's only broker stops answering (its connections stalled, not closed, as a broker starved
 * of CPU does) for longer than a slot's acknowledgement timeout (10 s) while the slot runs a stage,
 * so the renewal it commits times out. A timeout is Kafka's retriable kind of failure: the slot must
 * go on and take the next task once the broker answers again — a slot that ended its loop there left
 * its worker with no slot at all (seen in the multi-host suite at load 60: "task slot slot0 stopped:
 * … ShareAcknowledgeSyncEvent was 77 ms past its expiration").
 */
class BrokerOutageTest {
  private static final FarmKeys FARM_KEYS = StageHarness.FARM_KEYS;

  @Test
  void aSlotWhoseRenewalTimesOutWhileTheBrokerStallsTakesTheNextTaskAfterwards(@TempDir Path dir) throws Exception {
    int port = freePort();
    try (StallingProxy proxy = new StallingProxy(port);
        EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("kafka"), port, EmbeddedKafka.Settings.forTests()
            .withExtra(Map.of("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port())))) {
      // every client (the worker's and the test's) reaches the broker through the proxy: it is the advertised address
      run("127.0.0.1:" + proxy.port(), proxy);
    }
  }

  private static void run(String bootstrap, StallingProxy proxy) throws Exception {
    FarmTopics.ensure(bootstrap, FarmTopics.Layout.singleBroker());
    String build = "outage-" + UUID.randomUUID();
    TaskSlot.Settings settings = new TaskSlot.Settings(bootstrap, Topics.WORKER_SHARE_GROUP, "worker-outage",
        Duration.ofMillis(500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ZERO, FARM_KEYS);
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop loop = new TaskLoop(settings, 1, Duration.ofMillis(500), new SleepingRunner("worker-outage")).start()) {
      publish(bootstrap, task(build, "long", 25_000)); // renewed every 2 s (a third of the 6 s lock)
      watcher.await(of(build, KindCase.STARTED), Duration.ofSeconds(60));

      proxy.stall(true);
      Thread.sleep(14_000); // a renewal's commit waits its 10 s out meanwhile
      proxy.stall(false);

      publish(bootstrap, task(build, "next", 100));
      StageEvent done = watcher.await(
          e -> of(build, KindCase.COMPLETED).test(e) && e.getStageId().equals("next"), Duration.ofSeconds(120));
      assertThat(done.getWorkerId()).isEqualTo("worker-outage");
      assertThat(loop.whyNotLive()).isEmpty();
    }
  }

  private static int freePort() throws java.io.IOException {
    try (var socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static StageTask task(String build, String stage, long sleepMs) {
    return StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId(build).setStageId(stage)
        .setAttempt(1).setStageName("sleep:" + sleepMs).build();
  }

  private static void publish(String bootstrap, StageTask task) {
    try (var producer = new KafkaProducer<String, byte[]>(
        Map.of("bootstrap.servers", bootstrap), new StringSerializer(), new ByteArraySerializer())) {
      producer.send(FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK,
          new ProducerRecord<>(Topics.TASKS, task.getBuildId(), task.toByteArray()))).get();
    } catch (Exception e) {
      throw new AssertionError("publishing a task failed", e);
    }
  }
}
