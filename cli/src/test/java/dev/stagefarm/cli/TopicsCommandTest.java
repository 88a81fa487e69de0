package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.worker.kafka.FarmTopics;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stagefarm admin topics create} against a real broker of its own (the topics' names are fixed). */
class TopicsCommandTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;

  @BeforeAll
  static void broker() throws Exception {
    kafka = EmbeddedKafka.start(dir, 0, EmbeddedKafka.Settings.forTests(), null);
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  @Test
  void createsTheFarmTopicsWithTheirLayoutAndConfigsAndIsIdempotent() throws Exception {
    // one broker cannot hold three replicas: one line naming Kafka's reason, nothing created
    CliRun refused = CliRun.of("admin", "topics", "create", "--kafka", kafka.bootstrapServers());
    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.stderr()).startsWith("error: creating the stagefarm topics failed: ")
        .contains("replication factor").doesNotContain("Exception");

    CliRun run = CliRun.of("admin", "topics", "create", "--kafka", kafka.bootstrapServers(), "--replication-factor",
        "1", "--partitions", "6", "--config", "min.insync.replicas=1", "--config", "max.message.bytes=2097152");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(0);
    assertThat(run.stdout()).contains(Topics.TASKS, Topics.EVENTS, Topics.BUILDS, Topics.LEADER, Topics.CONTROL);
    try (Admin admin = FarmTopics.admin(kafka.bootstrapServers(), KafkaClientProperties.none())) {
      var topics = admin.describeTopics(List.of(Topics.TASKS, Topics.EVENTS)).allTopicNames().get(30, TimeUnit.SECONDS);
      assertThat(topics.get(Topics.TASKS).partitions()).hasSize(1);
      assertThat(topics.get(Topics.EVENTS).partitions()).hasSize(6);
      ConfigResource builds = new ConfigResource(ConfigResource.Type.TOPIC, Topics.BUILDS);
      var config = admin.describeConfigs(List.of(builds)).all().get(30, TimeUnit.SECONDS).get(builds);
      assertThat(config.get("max.message.bytes").value()).isEqualTo("2097152");
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact"); // its own config wins
    }

    // again, with another config: the topics stay, the config converges
    CliRun again = CliRun.of("admin", "topics", "create", "--kafka", kafka.bootstrapServers(), "--replication-factor",
        "1", "--partitions", "6", "--config", "max.message.bytes=4194304");
    assertThat(again.exitCode()).as(again.stderr()).isEqualTo(0);
    try (Admin admin = FarmTopics.admin(kafka.bootstrapServers(), KafkaClientProperties.none())) {
      // the controller has committed the change when the command returns; the broker that answers
      // describeConfigs applies it from the metadata log a moment later (seen once in CI): wait, bounded
      ConfigResource events = new ConfigResource(ConfigResource.Type.TOPIC, Topics.EVENTS);
      String value = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      do {
        if (value != null) {
          Thread.sleep(100);
        }
        var config = admin.describeConfigs(List.of(events)).all().get(30, TimeUnit.SECONDS).get(events);
        value = config.get("max.message.bytes").value();
      } while (!value.equals("4194304") && System.nanoTime() < deadline);
      assertThat(value).isEqualTo("4194304");
    }

    // asking for more replicas than the existing topics have is named, and the exit code says so
    CliRun more = CliRun.of("admin", "topics", "create", "--kafka", kafka.bootstrapServers(), "--replication-factor",
        "3");
    assertThat(more.exitCode()).isEqualTo(3);
    assertThat(more.stdout()).contains("(below 3: an existing topic; raise it with kafka-reassign-partitions)");
  }

  @Test
  void aBadConfigIsOneLineNamingIt() {
    CliRun run = CliRun.of("admin", "topics", "create", "--kafka", kafka.bootstrapServers(), "--replication-factor",
        "1", "--config", "min.insync.replicas=many");
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).startsWith("error: ").contains("min.insync.replicas").doesNotContain("\tat ");
  }
}
