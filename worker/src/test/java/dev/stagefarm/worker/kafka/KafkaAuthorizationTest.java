package dev.stagefarm.worker.kafka;

import static dev.stagefarm.worker.EventWatcher.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageEvent.KindCase;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.worker.EventWatcher;
import dev.stagefarm.worker.StageHarness;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The farm's Kafka ACLs ({@link FarmAcls}) on a broker with SASL authentication and {@code
 * allow.everyone.if.no.acl.found=false}: each role can do its part and nothing else, and a client
 * without credentials can do nothing. Every refusal is the broker's, performed for real.
 */
class KafkaAuthorizationTest {
  private static final EmbeddedKafka.Authentication USERS =
      EmbeddedKafka.Authentication.withRandomPasswords("admin", "coordinator", "worker");
  private static final FarmKeys FARM_KEYS = StageHarness.FARM_KEYS;
  private static EmbeddedKafka kafka;
  private static String bootstrap;

  @BeforeAll
  static void brokerWithFarmAcls() {
    kafka = KafkaFixture.startWithAuthentication(USERS);
    bootstrap = kafka.bootstrapServers();
    try (Admin admin = FarmTopics.admin(bootstrap, as("admin"))) {
      FarmAcls.apply(admin, FarmAcls.grants(FarmAcls.Roles.of("User:coordinator", "User:worker")));
    }
    // the coordinator's ACLs are enough to create the topics and configure the share group
    FarmTopics.ensure(bootstrap, as("coordinator"), FarmTopics.Layout.singleBroker());
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void aWorkerTakesASignedTaskAndReportsItsEventsWithItsOwnPrincipal() {
    String build = "acl-" + UUID.randomUUID();
    TaskSlot.Settings settings = new TaskSlot.Settings(bootstrap, Topics.WORKER_SHARE_GROUP, "worker-acl",
        Duration.ofMillis(500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ZERO, FARM_KEYS, as("worker"));
    try (EventWatcher coordinatorView = new EventWatcher(bootstrap, as("coordinator").asMap());
        TaskLoop worker = new TaskLoop(settings, 1, Duration.ofMillis(500), new SleepingRunner("worker-acl")).start()) {
      send(as("coordinator"), FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK,
          new ProducerRecord<>(Topics.TASKS, build, task(build).toByteArray())));

      StageEvent completed = coordinatorView.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));

      assertThat(completed.getWorkerId()).isEqualTo("worker-acl");
    }
  }

  @Test
  void theBrokerRefusesATaskFromAWorkersPrincipal() {
    long before = endOffset(Topics.TASKS);

    assertThatThrownBy(() -> send(as("worker"), FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK,
            new ProducerRecord<>(Topics.TASKS, "forged", task("forged").toByteArray()))))
        .hasRootCauseInstanceOf(TopicAuthorizationException.class)
        .rootCause().hasMessageContaining(Topics.TASKS);
    assertThat(endOffset(Topics.TASKS)).isEqualTo(before);
  }

  @Test
  void aWorkersPrincipalCannotReadTheBuildJournalNorWriteIt() {
    assertReadRefused(as("worker"), Topics.BUILDS);
    assertThatThrownBy(() -> send(as("worker"), new ProducerRecord<>(Topics.BUILDS, "b", new byte[] {1})))
        .hasRootCauseInstanceOf(TopicAuthorizationException.class);
  }

  @Test
  void aWorkersPrincipalCannotReadOtherWorkersEvents() {
    assertReadRefused(as("worker"), Topics.EVENTS);
  }

  /** Reading {@code topic} from the beginning, outside any group, as {@code security}'s principal. */
  private static void assertReadRefused(KafkaClientProperties security, String topic) {
    TopicPartition partition = new TopicPartition(topic, 0);
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
        props(security, Map.of("enable.auto.commit", "false")), new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(10)))
          .isInstanceOf(TopicAuthorizationException.class)
          .hasMessageContaining(topic);
    }
  }

  @Test
  void aClientWithoutCredentialsCannotPublish() {
    long before = endOffset(Topics.TASKS);

    assertThatThrownBy(() -> send(KafkaClientProperties.none(), FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK,
            new ProducerRecord<>(Topics.TASKS, "anonymous", task("anonymous").toByteArray()))))
        .hasRootCauseInstanceOf(TimeoutException.class); // the broker drops a connection that does not log in
    assertThat(endOffset(Topics.TASKS)).isEqualTo(before);
  }

  @Test
  void aClientWithAWrongPasswordIsRefused() {
    Map<String, String> wrong = new HashMap<>(as("coordinator").asMap());
    wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
        + " username=\"coordinator\" password=\"guessed\";");

    assertThatThrownBy(() -> send(KafkaClientProperties.of(wrong),
            new ProducerRecord<>(Topics.TASKS, "guessed", task("guessed").toByteArray())))
        .hasRootCauseInstanceOf(SaslAuthenticationException.class);
  }

  @Test
  void aWorkersPrincipalCannotCreateTopicsOrConfigureTheShareGroup() {
    assertThatThrownBy(() -> FarmTopics.ensure(bootstrap, as("worker"), FarmTopics.Layout.singleBroker()))
        .isInstanceOf(FarmTopics.KafkaSetupException.class)
        .hasMessageContaining("not authorized").hasMessageContaining("create-topics: false");
  }

  private static KafkaClientProperties as(String user) {
    return KafkaClientProperties.of(USERS.clientProperties(user));
  }

  private static Map<String, Object> props(KafkaClientProperties security, Map<String, String> more) {
    Map<String, Object> props = new HashMap<>(security.asMap());
    props.put("bootstrap.servers", bootstrap);
    props.putAll(more);
    return props;
  }

  private static void send(KafkaClientProperties security, ProducerRecord<String, byte[]> record) {
    try (var producer = new KafkaProducer<>(props(security, Map.of("max.block.ms", "5000", "delivery.timeout.ms",
        "5000", "request.timeout.ms", "4000")), new StringSerializer(), new ByteArraySerializer())) {
      producer.send(record).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("send failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static long endOffset(String topic) {
    try (Admin admin = FarmTopics.admin(bootstrap, as("admin"))) {
      TopicPartition partition = new TopicPartition(topic, 0);
      return admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static StageTask task(String build) {
    return StageTask.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(build)
        .setStageId("s")
        .setAttempt(1)
        .setStageName("sleep:100")
        .build();
  }
}
