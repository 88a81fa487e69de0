package dev.stagefarm.worker.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.worker.StageHarness;
import dev.stagefarm.worker.kafka.FarmMacs;
import dev.stagefarm.worker.kafka.FarmTopics;
import dev.stagefarm.worker.kafka.KafkaWorkerTransport;
import dev.stagefarm.worker.kafka.TaskLoop;
import dev.stagefarm.worker.kafka.TaskSlot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The share-group contract a worker's slots rely on, run against both transports: a real Kafka
 * broker (testkit's) and the in-process queue of the one-shot farm. Each case gets its own task
 * topic and group, with a {@value #LOCK_MS} ms record lock and a delivery limit of {@value #LIMIT}.
 * Waits are generous bounds on a hang, never assertions of speed.
 */
class TaskTransportContractTest {
  static final long LOCK_MS = 2_000;
  static final int LIMIT = 3;
  static final FarmKeys KEYS = StageHarness.FARM_KEYS;
  /** Long enough for any redelivery on a loaded machine. */
  static final Duration AWAIT = Duration.ofSeconds(60);

  /** One transport, with a fresh topic and group. */
  interface Queue extends AutoCloseable {
    String topic();

    /** Publishes a record (signed or not) as the coordinator would. */
    void publish(String key, byte[] value, Map<String, byte[]> headers);

    WorkerTransport transport(String workerId);

    TaskSlot.Settings settings(String workerId);

    @Override
    default void close() {}
  }

  static Stream<String> transports() {
    return Stream.of("kafka", "in-process");
  }

  static Queue queue(String kind) {
    return kind.equals("kafka") ? new KafkaQueue() : new InProcessQueue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aClaimedTaskGoesToOneMemberAndAnAcceptedOneNeverReturns(String kind) throws Exception {
    try (Queue q = queue(kind);
        TaskChannel a = channel(q, "a");
        TaskChannel b = channel(q, "b")) {
      StageTask task = task("accept");
      publishSigned(q, task);
      TaskDelivery got = await(a);
      assertThat(got.deliveryCount()).isEqualTo(1);
      assertThat(StageTask.parseFrom(got.value())).isEqualTo(task);
      assertThat(got.signedBy(KEYS)).isTrue();
      assertThat(b.poll(Duration.ofMillis(LOCK_MS / 2))).isEmpty();
      a.acknowledge(got, Ack.ACCEPT);
      a.commit(Duration.ofSeconds(10));
      assertThat(pollFor(b, Duration.ofMillis(2 * LOCK_MS))).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void renewalsKeepATaskPastItsLockAndTheRenewedTaskComesBackToItsHolder(String kind) throws Exception {
    try (Queue q = queue(kind);
        TaskChannel a = channel(q, "a");
        TaskChannel b = channel(q, "b")) {
      publishSigned(q, task("renew"));
      TaskDelivery got = await(a);
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * LOCK_MS);
      while (System.nanoTime() < until) {
        a.acknowledge(got, Ack.RENEW);
        a.commit(Duration.ofSeconds(10));
        TaskDelivery back = await(a);
        assertThat(back.sameRecord(got)).isTrue();
        assertThat(b.poll(Duration.ofMillis(LOCK_MS / 4))).isEmpty();
      }
      a.acknowledge(got, Ack.ACCEPT);
      a.commit(Duration.ofSeconds(10));
      assertThat(pollFor(b, Duration.ofMillis(LOCK_MS))).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aLockThatRunsOutHandsTheTaskToAnotherMemberAndTheLateAcknowledgementFails(String kind) throws Exception {
    try (Queue q = queue(kind);
        TaskChannel a = channel(q, "a");
        TaskChannel b = channel(q, "b")) {
      List<TaskChannel.AckFailure> failures = new CopyOnWriteArrayList<>();
      a.onAcknowledgeFailure(failures::add);
      publishSigned(q, task("expire"));
      TaskDelivery first = await(a);
      TaskDelivery again = await(b); // a never renews
      assertThat(again.sameRecord(first)).isTrue();
      // Kafka's consumer fetches in the background: a may have taken it once more (and lost it) before b
      assertThat(again.deliveryCount()).isGreaterThanOrEqualTo(2);
      a.acknowledge(first, Ack.ACCEPT);
      a.commit(Duration.ofSeconds(10));
      a.poll(Duration.ofMillis(200)); // Kafka may report on the next poll
      assertThat(failures).anySatisfy(f -> assertThat(f.offsets()).contains(first.offset()));
      b.acknowledge(again, Ack.ACCEPT);
      b.commit(Duration.ofSeconds(10));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aClosedMembersTaskGoesToAnotherAtOnceWithoutWaitingForTheLock(String kind) throws Exception {
    try (Queue q = queue(kind);
        TaskChannel b = channel(q, "b")) {
      publishSigned(q, task("release"));
      TaskDelivery first;
      try (TaskChannel a = channel(q, "a")) {
        first = await(a);
      }
      // the lock was renewed by nobody; a redelivery before it ran out shows the close released it
      // (LOCK_MS is short, so only the delivery count is asserted, not the time)
      TaskDelivery again = await(b);
      assertThat(again.sameRecord(first)).isTrue();
      assertThat(again.deliveryCount()).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aTaskReleasedAsOftenAsTheDeliveryLimitIsNotHandedOutAgain(String kind) throws Exception {
    try (Queue q = queue(kind);
        TaskChannel a = channel(q, "a")) {
      publishSigned(q, task("poison"));
      for (int delivery = 1; delivery <= LIMIT; delivery++) {
        TaskDelivery got = await(a);
        assertThat(got.deliveryCount()).isEqualTo(delivery);
        a.acknowledge(got, Ack.RELEASE);
        a.commit(Duration.ofSeconds(10));
      }
      assertThat(pollFor(a, Duration.ofMillis(2 * LOCK_MS))).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transports")
  void aTaskLoopRunsSignedTasksAndRejectsUnsignedAndForgedOnesUnrun(String kind) throws Exception {
    try (Queue q = queue(kind)) {
      List<String> ran = new CopyOnWriteArrayList<>();
      StageTask unsigned = task("unsigned");
      StageTask forged = task("forged");
      StageTask genuine = task("genuine");
      q.publish(unsigned.getBuildId(), unsigned.toByteArray(), Map.of());
      q.publish(forged.getBuildId(), forged.toByteArray(),
          FarmKeys.generate().headers(FarmKeys.Purpose.TASK, forged.toByteArray()));
      publishSigned(q, genuine);
      try (TaskLoop loop = new TaskLoop(q.transport("worker-contract"), q.settings("worker-contract"), 1,
          Duration.ofMillis(500), (t, progress) -> {
            ran.add(t.getStageId());
            return ImageState.newBuilder().setOrigin("ran").build();
          }, StageProgram.VERSION).start()) {
        long until = System.nanoTime() + AWAIT.toNanos();
        while (!ran.contains("genuine") && System.nanoTime() < until) {
          Thread.sleep(50);
        }
      }
      assertThat(ran).containsExactly("genuine");
      // rejected, not released: nobody ever gets them again
      try (TaskChannel other = channel(q, "other")) {
        assertThat(pollFor(other, Duration.ofMillis(2 * LOCK_MS))).isEmpty();
      }
    }
  }

  private static TaskChannel channel(Queue q, String member) {
    TaskChannel c = q.transport("worker-" + member).taskChannel("worker-" + member + "-slot0");
    c.subscribe(List.of(q.topic()));
    return c;
  }

  private static StageTask task(String stage) {
    return StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId("contract-" + UUID.randomUUID())
        .setStageId(stage).setStageName(stage).setAttempt(1).setProgramVersion(StageProgram.VERSION).build();
  }

  private static void publishSigned(Queue q, StageTask task) {
    q.publish(task.getBuildId(), task.toByteArray(), KEYS.headers(FarmKeys.Purpose.TASK, task.toByteArray()));
  }

  /** Polls until a task comes (the test fails when none does within {@link #AWAIT}). */
  private static TaskDelivery await(TaskChannel c) {
    List<TaskDelivery> got = pollFor(c, AWAIT);
    assertThat(got).as("a task within %s", AWAIT).hasSize(1);
    return got.getFirst();
  }

  /** What the channel hands out within {@code within}: at most one task (the members hold one). */
  private static List<TaskDelivery> pollFor(TaskChannel c, Duration within) {
    long until = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < until) {
      List<TaskDelivery> got = new ArrayList<>(c.poll(Duration.ofMillis(200)));
      if (!got.isEmpty()) {
        return got;
      }
    }
    return List.of();
  }

  private static final class InProcessQueue implements Queue {
    private final InProcessBus bus = new InProcessBus(Duration.ofMillis(LOCK_MS), LIMIT);
    private final String topic = Topics.TASKS;

    @Override
    public String topic() {
      return topic;
    }

    @Override
    public void publish(String key, byte[] value, Map<String, byte[]> headers) {
      bus.tasks().publish(topic, new SignedRecord(key, value, headers));
    }

    @Override
    public WorkerTransport transport(String workerId) {
      return new InProcessWorkerTransport(bus, KEYS);
    }

    @Override
    public TaskSlot.Settings settings(String workerId) {
      return new TaskSlot.Settings("in-process", "in-process", workerId, Duration.ofMillis(500), Duration.ofSeconds(5),
          Duration.ofSeconds(10), Duration.ZERO, KEYS, null, List.of(topic));
    }
  }

  private static final class KafkaQueue implements Queue {
    private final String bootstrap = KafkaFixture.bootstrapServers();
    private final String topic = "contract-" + UUID.randomUUID();
    private final String group = "contract-" + UUID.randomUUID();

    KafkaQueue() {
      FarmTopics.ensure(bootstrap, FarmTopics.Layout.singleBroker()); // the task loop reads the control topic
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, group);
        admin.incrementalAlterConfigs(Map.of(resource, List.of(
            set("share.auto.offset.reset", "earliest"),
            set("share.delivery.count.limit", Integer.toString(LIMIT)),
            set("share.record.lock.duration.ms", Long.toString(LOCK_MS))))).all().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("setting up the contract's topic and group failed", e);
      }
    }

    private static AlterConfigOp set(String key, String value) {
      return new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET);
    }

    @Override
    public String topic() {
      return topic;
    }

    @Override
    public void publish(String key, byte[] value, Map<String, byte[]> headers) {
      ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, value);
      headers.forEach(record.headers()::add);
      try (var producer = new KafkaProducer<String, byte[]>(
          Map.of("bootstrap.servers", bootstrap), new StringSerializer(), new ByteArraySerializer())) {
        producer.send(record).get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("publishing a task failed", e);
      }
    }

    @Override
    public WorkerTransport transport(String workerId) {
      return new KafkaWorkerTransport(settings(workerId));
    }

    @Override
    public TaskSlot.Settings settings(String workerId) {
      return new TaskSlot.Settings(bootstrap, group, workerId, Duration.ofMillis(500), Duration.ofSeconds(5),
          Duration.ofSeconds(10), Duration.ZERO, KEYS, null, List.of(topic));
    }
  }
}
