package dev.stagefarm.worker.kafka;

import static dev.stagefarm.worker.EventWatcher.of;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ControlMessage;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageEvent.KindCase;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.testkit.KafkaFixture;
import dev.stagefarm.worker.EventWatcher;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Control messages (docs/protocol.md, "Control messages"), deadlines and the parked slot, against
 * a real broker with a sleeping stand-in for the executor (the runc side of a cancel is tested end
 * to end in cli's CancelEndToEndTest).
 */
class ControlMessagesTest {
  private static final FarmKeys FARM_KEYS = TaskLoopTest.FARM_KEYS;
  private static String bootstrap;

  @BeforeAll
  static void broker() {
    bootstrap = KafkaFixture.bootstrapServers();
    FarmTopics.ensure(bootstrap, FarmTopics.Layout.singleBroker());
  }

  @Test
  void tasksOfEndedBuildsAndSupersededAttemptsAreDroppedUnrun() {
    String ended = "ended-" + UUID.randomUUID();
    String retried = "retried-" + UUID.randomUUID();
    // sent before the worker starts: it reads back the recent control messages first
    control(ControlMessage.newBuilder().setBuildId(ended)
        .setBuildEnded(ControlMessage.BuildEnded.newBuilder().setReason("cancelled")));
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = loop("worker-control").start()) {
      // sent while it runs
      control(ControlMessage.newBuilder().setBuildId(retried)
          .setAttemptIssued(ControlMessage.AttemptIssued.newBuilder().setStageId("s").setAttempt(2)));
      awaitControlApplied();
      publish(task(ended, "s", 1, 100));
      publish(task(retried, "s", 1, 100)); // the stale attempt, as a broker redelivers it
      publish(task(retried, "s", 2, 500)); // longer than the start delay: it publishes a started

      watcher.await(e -> of(retried, KindCase.COMPLETED).test(e) && e.getAttempt() == 2, Duration.ofSeconds(60));
      watcher.drain(Duration.ofSeconds(2));
      assertThat(watcher.events(e -> e.getBuildId().equals(ended))).isEmpty();
      assertThat(watcher.events(of(retried, KindCase.STARTED))).extracting(StageEvent::getAttempt).containsExactly(2);
    }
  }

  @Test
  void aBuildEndingStopsItsRunningStageAndFreesTheSlot() throws Exception {
    String cancelled = "cancel-" + UUID.randomUUID();
    String next = "next-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = loop("worker-cancel").start()) {
      publish(task(cancelled, "s", 1, 600_000));
      watcher.await(of(cancelled, KindCase.STARTED), Duration.ofSeconds(60));
      control(ControlMessage.newBuilder().setBuildId(cancelled)
          .setBuildEnded(ControlMessage.BuildEnded.newBuilder().setReason("cancelled")));
      publish(task(next, "s", 1, 100)); // one slot: it runs only once the cancelled stage let go

      StageEvent done = watcher.await(of(next, KindCase.COMPLETED), Duration.ofSeconds(60));
      assertThat(done.getWorkerId()).isEqualTo("worker-cancel");
      // the slot lets go of a stage just after its last event is out
      for (int i = 0; i < 500 && worker.runningStages() > 0; i++) {
        Thread.sleep(10);
      }
      assertThat(worker.runningStages()).isZero();
      // no outcome for the cancelled stage: nobody waits for it, and it must not be retried
      assertThat(watcher.events(e -> e.getBuildId().equals(cancelled) && (e.hasCompleted() || e.hasFailed())))
          .isEmpty();
    }
  }

  @Test
  void aControlMessageWithoutTheFarmsMacIsIgnored() {
    String build = "forged-cancel-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = loop("worker-unforged").start()) {
      send(new ProducerRecord<>(Topics.CONTROL, build, ControlMessage.newBuilder().setBuildId(build)
          .setBuildEnded(ControlMessage.BuildEnded.newBuilder().setReason("forged")).build().toByteArray()));
      send(FarmMacs.sign(FarmKeys.generate(), FarmKeys.Purpose.CONTROL, new ProducerRecord<>(Topics.CONTROL, build,
          ControlMessage.newBuilder().setBuildId(build)
              .setBuildEnded(ControlMessage.BuildEnded.newBuilder().setReason("other farm")).build().toByteArray())));
      // a task MAC is not a control MAC: a signed task replayed on the control topic is ignored too
      send(FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK, new ProducerRecord<>(Topics.CONTROL, build,
          ControlMessage.newBuilder().setBuildId(build)
              .setBuildEnded(ControlMessage.BuildEnded.newBuilder().setReason("wrong purpose")).build().toByteArray())));
      awaitControlApplied();
      publish(task(build, "s", 1, 100));
      watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
    }
  }

  @Test
  void aStagePastItsDeadlineFailsNamingTheDeadline() {
    String build = "deadline-" + UUID.randomUUID();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = loop("worker-deadline").start()) {
      publish(task(build, "s", 1, 600_000).toBuilder().setStageTimeoutMs(1500).build());
      StageEvent failed = watcher.await(of(build, KindCase.FAILED), Duration.ofSeconds(60));
      assertThat(failed.getFailed().getRetriable()).isFalse();
      assertThat(failed.getFailed().getMessage()).contains("ran past its deadline of PT1.5S", "stage-deadline");
    }
  }

  /**
   * Issue 12: a running slot used to poll its consumer in a loop (each poll handed back the
   * record it had just renewed), burning a core. Parked, its thread uses a few milliseconds of
   * CPU per renewal. Measured on the slot's own thread, so the broker in this JVM does not count.
   */
  @Test
  void aRunningSlotParksInsteadOfPolling() {
    String build = "park-" + UUID.randomUUID();
    var threads = ManagementFactory.getThreadMXBean();
    try (EventWatcher watcher = new EventWatcher(bootstrap);
        TaskLoop worker = loop("worker-parked").start()) {
      publish(task(build, "s", 1, 10_000)); // longer than the 6 s lock: renewed at least twice
      watcher.await(of(build, KindCase.STARTED), Duration.ofSeconds(60));
      Thread slot = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().equals("worker-parked-slot0")).findFirst().orElseThrow();
      long cpuBefore = threads.getThreadCpuTime(slot.threadId());
      watcher.await(of(build, KindCase.COMPLETED), Duration.ofSeconds(60));
      long cpuMs = (threads.getThreadCpuTime(slot.threadId()) - cpuBefore) / 1_000_000;
      System.out.println("slot thread CPU while its 10 s stage ran: " + cpuMs + " ms");
      assertThat(cpuMs).as("CPU ms of the slot thread during a 10 s stage").isLessThan(1_000);
      watcher.drain(Duration.ofSeconds(1));
      assertThat(watcher.events(of(build, KindCase.STARTED))).hasSize(1);
    }
  }

  private static void awaitControlApplied() {
    try {
      Thread.sleep(1000); // the listener's fetch returns as soon as a message arrives
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static TaskLoop loop(String workerId) {
    return new TaskLoop(new TaskSlot.Settings(bootstrap, Topics.WORKER_SHARE_GROUP, workerId, Duration.ofMillis(500),
        Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ZERO, FARM_KEYS), 1, Duration.ofMillis(500),
        new SleepingRunner(workerId));
  }

  private static StageTask task(String build, String stage, int attempt, long sleepMs) {
    return StageTask.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setBuildId(build)
        .setStageId(stage)
        .setAttempt(attempt)
        .setStageName("sleep:" + sleepMs)
        .build();
  }

  private static void publish(StageTask task) {
    send(FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.TASK,
        new ProducerRecord<>(Topics.TASKS, task.getBuildId(), task.toByteArray())));
  }

  private static void control(ControlMessage.Builder message) {
    ControlMessage built = message.setSchemaVersion(Topics.SCHEMA_VERSION).setTimestampMs(System.currentTimeMillis())
        .build();
    send(FarmMacs.sign(FARM_KEYS, FarmKeys.Purpose.CONTROL,
        new ProducerRecord<>(Topics.CONTROL, built.getBuildId(), built.toByteArray())));
  }

  private static void send(ProducerRecord<String, byte[]> record) {
    try (var producer = new KafkaProducer<String, byte[]>(
        Map.of("bootstrap.servers", bootstrap), new StringSerializer(), new ByteArraySerializer())) {
      producer.send(record).get();
    } catch (Exception e) {
      throw new AssertionError("publishing failed", e);
    }
  }
}
