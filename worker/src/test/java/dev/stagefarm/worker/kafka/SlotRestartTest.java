package dev.stagefarm.worker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageHarness;
import dev.stagefarm.worker.transport.Ack;
import dev.stagefarm.worker.transport.ControlFeed;
import dev.stagefarm.worker.transport.EventSink;
import dev.stagefarm.worker.transport.InProcessWorkerTransport;
import dev.stagefarm.worker.transport.TaskChannel;
import dev.stagefarm.worker.transport.TaskDelivery;
import dev.stagefarm.worker.transport.WorkerTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A slot whose loop fails (here: its channel throws) serves again on a new channel, instead of
 * leaving a long-lived worker (the local farm's) one slot short for good. On the in-process bus.
 */
class SlotRestartTest {
  private static final FarmKeys KEYS = StageHarness.FARM_KEYS;
  private final InProcessBus bus = new InProcessBus(Duration.ofSeconds(3), 5);

  @Test
  void aSlotWhoseChannelFailedServesAgainAndRunsTheNextTask() throws Exception {
    FailingTransport transport = new FailingTransport(0);
    try (TaskLoop loop = loop(transport).start()) {
      awaitTrue(() -> loop.slotRestarts() == 1, "the slot restarted");
      publish(task("b1", "s1", 100));
      StageEvent completed = awaitOutcome("b1", "s1");
      assertThat(completed.getKindCase()).isEqualTo(StageEvent.KindCase.COMPLETED);
      assertThat(transport.channelsOpened.get()).isEqualTo(2);
      assertThat(loop.whyNotLive()).isEmpty();
    }
  }

  @Test
  void theStageOfASlotThatFailedIsAbandonedAndItsTaskRunsAgainOnce() throws Exception {
    // the first channel hands out the task, then fails at its first renewal while the stage runs
    FailingTransport transport = new FailingTransport(1);
    try (TaskLoop loop = loop(transport).start()) {
      publish(task("b2", "s1", 2_500));
      StageEvent completed = awaitOutcome("b2", "s1");
      assertThat(completed.getKindCase()).isEqualTo(StageEvent.KindCase.COMPLETED);
      assertThat(loop.slotRestarts()).isEqualTo(1);
      // the slot publishes the outcome, then acknowledges the task: the acknowledgement may follow a moment later
      awaitTrue(() -> bus.tasks().pending() == 0, "the task acknowledged by the second run");
      // the abandoned first run reported nothing: one outcome in all
      Thread.sleep(500);
      assertThat(drainOutcomes("b2")).isEmpty();
    }
  }

  private TaskLoop loop(WorkerTransport transport) {
    TaskSlot.Settings settings = new TaskSlot.Settings("", Topics.WORKER_SHARE_GROUP, "restarting",
        Duration.ofMillis(500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ZERO, KEYS);
    return new TaskLoop(transport, settings, 1, Duration.ofSeconds(1), new SleepingRunner("restarting"),
        dev.stagefarm.program.StageProgram.VERSION);
  }

  private void publish(StageTask task) {
    bus.tasks().publish(Topics.TASKS, SignedRecord.sign(KEYS, FarmKeys.Purpose.TASK,
        task.getBuildId() + "/" + task.getStageId(), task.toByteArray()));
  }

  private static StageTask task(String build, String stage, long sleepMs) {
    return StageTask.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setBuildId(build).setStageId(stage)
        .setAttempt(1).setStageName("sleep:" + sleepMs).build();
  }

  /** The build's first outcome (completed or failed) on the bus, within 30 s. */
  private StageEvent awaitOutcome(String build, String stage) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < until) {
      SignedRecord record = bus.takeEvent(Duration.ofMillis(200));
      if (record == null) {
        continue;
      }
      StageEvent event = StageEvent.parseFrom(record.value());
      if (event.getBuildId().equals(build) && event.getStageId().equals(stage) && isOutcome(event)) {
        return event;
      }
    }
    throw new AssertionError("no outcome of " + build + "/" + stage + " within 30 s");
  }

  private List<StageEvent> drainOutcomes(String build) throws Exception {
    List<StageEvent> outcomes = new ArrayList<>();
    SignedRecord record;
    while ((record = bus.takeEvent(Duration.ofMillis(50))) != null) {
      StageEvent event = StageEvent.parseFrom(record.value());
      if (event.getBuildId().equals(build) && isOutcome(event)) {
        outcomes.add(event);
      }
    }
    return outcomes;
  }

  private static boolean isOutcome(StageEvent event) {
    return event.getKindCase() == StageEvent.KindCase.COMPLETED || event.getKindCase() == StageEvent.KindCase.FAILED;
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError(what + ": not within 30 s");
      }
      Thread.sleep(20);
    }
  }

  /** The in-process transport whose first task channel fails on its poll after {@code goodPolls} deliveries. */
  private final class FailingTransport implements WorkerTransport {
    private final InProcessWorkerTransport real = new InProcessWorkerTransport(bus, KEYS);
    private final int deliveriesBeforeFailure;
    final AtomicInteger channelsOpened = new AtomicInteger();

    FailingTransport(int deliveriesBeforeFailure) {
      this.deliveriesBeforeFailure = deliveriesBeforeFailure;
    }

    @Override
    public TaskChannel taskChannel(String clientId) {
      TaskChannel channel = real.taskChannel(clientId);
      return channelsOpened.incrementAndGet() == 1 ? new Failing(channel, deliveriesBeforeFailure) : channel;
    }

    @Override
    public EventSink eventSink(String clientId) {
      return real.eventSink(clientId);
    }

    @Override
    public ControlFeed controlFeed(String clientId, Duration lookback, Consumer<ControlFeed.Message> onMessage) {
      return real.controlFeed(clientId, lookback, onMessage);
    }
  }

  /** A channel that throws on the poll after it handed out {@code deliveries} records. */
  private static final class Failing implements TaskChannel {
    private final TaskChannel delegate;
    private int deliveriesLeft;

    Failing(TaskChannel delegate, int deliveries) {
      this.delegate = delegate;
      this.deliveriesLeft = deliveries;
    }

    @Override
    public List<TaskDelivery> poll(Duration timeout) {
      if (deliveriesLeft == 0) {
        throw new IllegalStateException("a channel in a state it cannot leave (test)");
      }
      List<TaskDelivery> records = delegate.poll(timeout);
      deliveriesLeft -= records.size();
      return records;
    }

    @Override
    public void subscribe(List<String> topics) {
      delegate.subscribe(topics);
    }

    @Override
    public void unsubscribe() {
      delegate.unsubscribe();
    }

    @Override
    public void acknowledge(TaskDelivery delivery, Ack ack) {
      delegate.acknowledge(delivery, ack);
    }

    @Override
    public void commit(Duration timeout) {
      delegate.commit(timeout);
    }

    @Override
    public void wakeup() {
      delegate.wakeup();
    }

    @Override
    public Optional<Duration> lockDuration() {
      return delegate.lockDuration();
    }

    @Override
    public void onAcknowledgeFailure(Consumer<AckFailure> listener) {
      delegate.onAcknowledgeFailure(listener);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
