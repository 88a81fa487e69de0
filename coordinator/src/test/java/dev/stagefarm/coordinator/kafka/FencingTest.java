package dev.stagefarm.coordinator.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.WriteFailure;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.KafkaFixture;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fenced writer, the journal's record size and the leader election, against a real broker. */
class FencingTest {
  static String bootstrap;

  @BeforeAll
  static void topics() throws Exception {
    bootstrap = KafkaFixture.bootstrapServers();
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(props)) {
      var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = java.util.stream.Stream.of(Topics.BUILDS, Topics.LEADER, Topics.TASKS)
          .filter(t -> !existing.contains(t))
          .map(t -> new NewTopic(t, 1, (short) 1))
          .toList();
      if (!missing.isEmpty()) {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      }
    }
  }

  static ProducerRecord<String, byte[]> record(String value) {
    return new ProducerRecord<>(Topics.BUILDS, "fencing-test", value.getBytes());
  }

  @Test
  void aCoordinatorThatTakesOverFencesTheWritesOfThePreviousOne() {
    String id = "farm-" + UUID.randomUUID();
    try (FencedProducer old = new FencedProducer(bootstrap, id);
        FencedProducer taker = new FencedProducer(bootstrap, id)) {
      old.fenceOthers(Duration.ofSeconds(30));
      old.send(record("from the old leader"));

      taker.fenceOthers(Duration.ofSeconds(30));

      assertThatThrownBy(() -> old.send(record("from a leader that does not know it was replaced")))
          .isInstanceOfSatisfying(WriteFailure.class, f -> assertThat(f.kind()).isEqualTo(WriteFailure.Kind.FENCED))
          .hasMessageContaining("stops writing");
      taker.send(record("from the new leader"));
    }
  }

  @Test
  void aRecordOverTheSizeLimitIsRefusedAndTheProducerGoesOn() {
    try (FencedProducer producer = new FencedProducer(bootstrap, "farm-" + UUID.randomUUID())) {
      producer.fenceOthers(Duration.ofSeconds(30));
      assertThatThrownBy(() -> producer.send(new ProducerRecord<>(Topics.TASKS, "big", new byte[2 << 20])))
          .isInstanceOfSatisfying(WriteFailure.class, f -> assertThat(f.kind()).isEqualTo(WriteFailure.Kind.REFUSED))
          .hasMessageContaining("over the broker's size limit");
      producer.send(record("after the refused one"));
    }
  }

  @Test
  void aTwoMebibyteDockerfileIsJournaledByDigestAndReadBack() throws Exception {
    InMemoryContentStore content = new InMemoryContentStore();
    byte[] dockerfile = ("FROM scratch\nRUN <<EOF\n" + "x".repeat(2 << 20) + "\nEOF\n").getBytes();
    String buildId = "big-" + UUID.randomUUID();
    try (FencedProducer producer = new FencedProducer(bootstrap, "farm-" + UUID.randomUUID())) {
      producer.fenceOthers(Duration.ofSeconds(30));
      KafkaBuildJournal journal = new KafkaBuildJournal(bootstrap, producer, content);
      journal.record(new JournalEntry(buildId,
          SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFrom(dockerfile)).build(),
          BuildStatus.newBuilder().setBuildId(buildId).setState(BuildState.RUNNING).build(), Map.of()));

      assertThat(content.contains(Namespace.CONTEXT, Digest.of(dockerfile))).isTrue();
      // a commit returns before its markers reach the partition: until then the record is past the stable offset
      java.util.Optional<JournalEntry> found = java.util.Optional.empty();
      for (int i = 0; i < 60 && found.isEmpty(); i++) {
        found = journal.replay().stream().filter(e -> e.buildId().equals(buildId)).findFirst();
        if (found.isEmpty()) {
          Thread.sleep(500);
        }
      }
      JournalEntry back = found.orElseThrow();
      assertThat(back.request().getDockerfile().toByteArray()).isEqualTo(dockerfile);
    }
  }

  @Test
  void oneCoordinatorOfAGroupLeadsAndAStandbyTakesOverWhenItLeaves() throws Exception {
    String group = "election-" + UUID.randomUUID();
    AtomicBoolean firstLeads = new AtomicBoolean();
    CountDownLatch secondElected = new CountDownLatch(1);
    AtomicBoolean secondLeads = new AtomicBoolean();
    KafkaLeaderElection first = new KafkaLeaderElection(bootstrap, group, Duration.ofSeconds(6), listener(firstLeads, null))
        .start(Duration.ofSeconds(30));
    KafkaLeaderElection second = new KafkaLeaderElection(bootstrap, group, Duration.ofSeconds(6),
        listener(secondLeads, secondElected)).start(Duration.ofSeconds(30));
    try {
      assertThat(first.isLeader()).isTrue();
      Thread.sleep(1000); // the standby's join is a rebalance: sticky, the leader keeps the partition
      assertThat(first.isLeader()).isTrue();
      assertThat(second.isLeader()).isFalse();

      first.close();
      assertThat(firstLeads).isFalse();
      assertThat(secondElected.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(second.isLeader()).isTrue();
    } finally {
      second.close();
    }
  }

  private static KafkaLeaderElection.Listener listener(AtomicBoolean leads, CountDownLatch elected) {
    return new KafkaLeaderElection.Listener() {
      @Override
      public void elected() {
        leads.set(true);
        if (elected != null) {
          elected.countDown();
        }
      }

      @Override
      public void deposed() {
        leads.set(false);
      }
    };
  }
}
