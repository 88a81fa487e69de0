package dev.stagefarm.worker.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.ControlMessage;
import dev.stagefarm.worker.transport.ControlFeed;
import dev.stagefarm.worker.transport.EventSink;
import dev.stagefarm.worker.transport.WorkerTransport;
import dev.stagefarm.worker.StageRunner;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A worker's claim-execute-report loop: {@code concurrency} {@link TaskSlot}s on the share group,
 * one event sink, the control feed, and a timer that heartbeats every running stage on the events topic (the
 * coordinator's lease, DESIGN.md §4).
 */
public final class TaskLoop implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TaskLoop.class);
  /** How long a starting worker waits to have read the recent control messages. */
  static final Duration CONTROL_CATCH_UP = Duration.ofSeconds(15);
  private final List<TaskSlot> slots = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Set<RunningStage> running = ConcurrentHashMap.newKeySet();
  private final EventSink publisher;
  private final ScheduledExecutorService heartbeats;
  private final Duration heartbeatInterval;
  private final Duration shutdownGrace;
  private final BuildControl control;
  private final java.util.concurrent.atomic.AtomicBoolean controlReleased = new java.util.concurrent.atomic.AtomicBoolean();
  private final ControlFeed controlListener;
  private final FarmKeys keys;

  public TaskLoop(TaskSlot.Settings settings, int concurrency, Duration heartbeatInterval, StageRunner runner) {
    this(settings, concurrency, heartbeatInterval, runner, StageProgram.VERSION);
  }

  /**
   * @param maxProgramVersion the newest stage-program version the slots take; a task of a newer
   *     one is handed back (below {@link StageProgram#VERSION}: stands in for an older worker)
   */
  public TaskLoop(TaskSlot.Settings settings, int concurrency, Duration heartbeatInterval, StageRunner runner,
      int maxProgramVersion) {
    this(new KafkaWorkerTransport(settings), settings, concurrency, heartbeatInterval, runner, maxProgramVersion);
  }

  /**
   * A loop on {@code transport} (Kafka or in-process); {@code settings}' Kafka fields are used only
   * by a Kafka transport.
   */
  public TaskLoop(WorkerTransport transport, TaskSlot.Settings settings, int concurrency, Duration heartbeatInterval,
      StageRunner runner, int maxProgramVersion) {
    this.keys = settings.farmKeys();
    this.publisher = transport.eventSink(settings.workerId() + "-events");
    this.heartbeatInterval = heartbeatInterval;
    this.shutdownGrace = settings.shutdownGrace();
    this.heartbeats = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name(settings.workerId() + "-heartbeat").factory());
    this.control = BuildControl.share(new BuildControl.Farm(settings.bootstrapServers(), keys));
    this.controlListener = transport.controlFeed(settings.workerId() + "-control", FarmTopics.CONTROL_RETENTION,
        this::onControl);
    for (int i = 0; i < concurrency; i++) {
      TaskSlot slot = new TaskSlot("slot" + i, settings, transport, runner, publisher, Clock.systemUTC(), running::add, running::remove,
          control, maxProgramVersion);
      slots.add(slot);
      threads.add(Thread.ofPlatform().name(settings.workerId() + "-slot" + i).unstarted(slot));
    }
  }

  /**
   * Starts the control listener, waits (a bounded time) until it has read the recent control
   * messages, so a restarted worker does not run tasks of builds that ended meanwhile, then starts
   * the slots and heartbeats.
   */
  public TaskLoop start() {
    controlListener.start();
    try {
      if (!controlListener.awaitCaughtUp(CONTROL_CATCH_UP)) {
        log.warn("the control topic was not read within {}; claiming tasks anyway", CONTROL_CATCH_UP);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long period = heartbeatInterval.toMillis();
    heartbeats.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
    threads.forEach(Thread::start);
    return this;
  }

  /** How long a slot may go without a turn of its loop before the worker counts as stuck. */
  static final Duration STUCK_AFTER = Duration.ofMinutes(2);

  /** Empty while every slot's loop takes turns; else which slot is dead or stuck. */
  public java.util.Optional<String> whyNotLive() {
    for (int i = 0; i < slots.size(); i++) {
      TaskSlot slot = slots.get(i);
      if (!threads.get(i).isAlive() && !slot.stopping()) {
        return java.util.Optional.of("task slot " + slot.name() + " stopped");
      }
      Duration since = slot.sinceLastTurn();
      if (threads.get(i).isAlive() && since.compareTo(STUCK_AFTER) > 0) {
        return java.util.Optional.of("task slot " + slot.name() + " has not taken a turn for " + since.toSeconds() + " s");
      }
    }
    return java.util.Optional.empty();
  }

  /** Empty while every slot has its channel on the task queue; else how many do not. */
  public java.util.Optional<String> whyNotReady() {
    long consuming = slots.stream().filter(TaskSlot::consuming).count();
    return consuming == slots.size() ? java.util.Optional.empty()
        : java.util.Optional.of(consuming + " of " + slots.size() + " task slot(s) consuming");
  }

  /** How often a slot's loop failed and was started again (TaskSlot#run). */
  public long slotRestarts() {
    return slots.stream().mapToLong(TaskSlot::restarts).sum();
  }

  /** How many stages run right now. */
  public int runningStages() {
    return running.size();
  }

  /** Tasks of a program version newer than this worker understands that its slots handed back. */
  public long tasksHandedBack() {
    return slots.stream().mapToLong(TaskSlot::handedBack).sum();
  }

  /**
   * A control message arrived. One without a valid farm MAC is ignored: whoever can write the control
   * topic must not be able to cancel other people's builds.
   */
  private void onControl(ControlFeed.Message record) {
    if (!keys.verifyHeaders(FarmKeys.Purpose.CONTROL, record.value(), record.headers())) {
      byte[] id = record.headers().apply(FarmKeys.KEY_ID_HEADER);
      log.warn("ignoring a control message at offset {} without a valid farm MAC (key id {})", record.offset(),
          id == null ? "" : new String(id, java.nio.charset.StandardCharsets.UTF_8));
      return;
    }
    ControlMessage message;
    try {
      message = ControlMessage.parseFrom(record.value());
    } catch (InvalidProtocolBufferException e) {
      log.warn("ignoring an unreadable control message at offset {}: {}", record.offset(), e.getMessage());
      return;
    }
    control.apply(message);
    stopSuperfluousStages();
  }

  /** Kill the running stages of ended builds and superseded attempts. */
  private void stopSuperfluousStages() {
    for (RunningStage stage : running) {
      control.check(stage.task).ifPresent(verdict -> {
        log.info("{}: cancelling, {}", stage.describe(), verdict.reason());
        stage.cancel(new RunningStage.Superfluous(verdict.reason()));
      });
    }
  }

  private void heartbeat() {
    for (RunningStage stage : running) {
      if (!stage.finished()) {
        stage.announceStart();
        publisher.publish(stage.events.heartbeat(stage.currentInstruction()));
      }
    }
  }

  /**
   * Stops claiming work; running stages get the shutdown grace to finish (their results are
   * reported), after which they are cancelled and their records released to other workers.
   */
  @Override
  public void close() {
    slots.forEach(TaskSlot::stop);
    long waitMs = shutdownGrace.toMillis() + 30_000;
    for (Thread t : threads) {
      try {
        t.join(waitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    heartbeats.shutdownNow();
    controlListener.close();
    if (controlReleased.compareAndSet(false, true)) {
      control.release(); // once, also when closed twice: the memory may be shared with other workers
    }
    publisher.close();
  }
}
