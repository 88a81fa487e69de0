package dev.stagefarm.worker.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.worker.transport.Ack;
import dev.stagefarm.worker.transport.EventSink;
import dev.stagefarm.worker.transport.TaskChannel;
import dev.stagefarm.worker.transport.TaskDelivery;
import dev.stagefarm.worker.transport.WorkerTransport;
import dev.stagefarm.program.TaskRouting;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.StageRunner;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One unit of a worker's concurrency: a share-group member ({@link TaskChannel}: a Kafka share
 * consumer, or the in-process queue's member) that holds at most one task record at a time, and
 * the stage executing for it. See docs/protocol.md ("Claiming a task").
 *
 * <p>Why one consumer per slot: with {@code share.acquire.mode=record_limit} and {@code
 * max.poll.records=1}, a consumer that holds a record (renewing its lock) is not given another,
 * so a busy slot never claims work it cannot start. One consumer for N stages could not bound what
 * the broker hands it and would have to release surplus records, spending their delivery count;
 * and the Kafka 4.4 client fetches nothing while it holds any record of its last poll, so slots
 * whose stages ended would idle until the batch's longest stage ended. Every idle slot fetches:
 * letting one idle slot of a worker fetch at a time (handing the turn on when it took a task) was
 * built in session 6 and made tasks published together start one after another (bench/README.md).
 *
 * <p>The channel is not thread-safe: every poll, acknowledge and commit happens on this slot's
 * thread. The stage runs on its own thread and signals its end with {@link TaskChannel#wakeup()}
 * (the one thread-safe call).
 */
public final class TaskSlot implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(TaskSlot.class);
  /** How long the broker may hold a share fetch with nothing to deliver; bounds the hand-off wait. */
  static final Duration FETCH_MAX_WAIT = Duration.ofMillis(50);
  /** The poll timeout while a finished stage waits for its record to come back for the final acknowledgement. */
  static final Duration FINISHED_POLL = Duration.ofMillis(20);
  /**
   * How long a slot that handed back a task of a newer program version claims nothing: out of the
   * share group meanwhile, so the broker gives the task (and what follows it) to a current worker
   * rather than back to this one, each time spending a delivery.
   */
  static final Duration HAND_BACK_PAUSE = Duration.ofSeconds(5);
  /** The record lock assumed until the consumer knows the group's (the broker default). */
  static final Duration DEFAULT_LOCK = Duration.ofSeconds(30);
  /** Renewals per lock duration: a renewal may be late by up to two intervals before the lock is lost. */
  static final int RENEWALS_PER_LOCK = 3;

  /**
   * How the slot behaves; see {@link dev.stagefarm.worker.config.WorkerConfig} for the user-facing keys.
   *
   * @param kafkaSecurity SASL/TLS settings of the slot's consumer and the worker's event producer
   */
  public record Settings(
      String bootstrapServers,
      String groupId,
      String workerId,
      Duration pollTimeout,
      Duration shutdownGrace,
      Duration outcomeTimeout,
      Duration faultPause,
      FarmKeys farmKeys,
      KafkaClientProperties kafkaSecurity,
      List<String> taskTopics) {
    public Settings {
      kafkaSecurity = kafkaSecurity == null ? KafkaClientProperties.none() : kafkaSecurity;
      taskTopics = taskTopics == null || taskTopics.isEmpty() ? List.of(Topics.TASKS) : List.copyOf(taskTopics);
    }

    /** Taking the host platform's tasks ({@link Topics#TASKS} on amd64). */
    public Settings(String bootstrapServers, String groupId, String workerId, Duration pollTimeout,
        Duration shutdownGrace, Duration outcomeTimeout, Duration faultPause, FarmKeys farmKeys,
        KafkaClientProperties kafkaSecurity) {
      this(bootstrapServers, groupId, workerId, pollTimeout, shutdownGrace, outcomeTimeout, faultPause, farmKeys,
          kafkaSecurity, List.of(TaskRouting.topic(TaskRouting.hostPlatform())));
    }

    /** Plain-text Kafka without authentication. */
    public Settings(String bootstrapServers, String groupId, String workerId, Duration pollTimeout,
        Duration shutdownGrace, Duration outcomeTimeout, Duration faultPause, FarmKeys farmKeys) {
      this(bootstrapServers, groupId, workerId, pollTimeout, shutdownGrace, outcomeTimeout, faultPause, farmKeys,
          KafkaClientProperties.none(), List.of(TaskRouting.topic(TaskRouting.hostPlatform())));
    }
  }

  private final String name;
  private final Settings settings;
  private final WorkerTransport transport;
  private final StageRunner runner;
  private final EventSink publisher;
  private final Clock clock;
  private final Consumer<RunningStage> onStart;
  private final Consumer<RunningStage> onEnd;
  private final BuildControl control;
  /** The newest program version this slot runs; a newer task is handed back (rolling upgrades). */
  private final int maxProgramVersion;
  private volatile long handedBack;
  private volatile long restarts;
  /** Wakes the parked slot thread: its stage ended, or the slot stops. */
  private final Semaphore wake = new Semaphore(0);
  private volatile boolean stopping;
  private volatile long stopDeadlineNanos;
  private volatile TaskChannel consumer;
  /** When the slot's loop last took a turn (System.nanoTime), for the worker's liveness. */
  private volatile long lastTurnNanos = System.nanoTime();
  /** Whether the consumer is subscribed to the task topic now (not before the start, during a pause or after the stop). */
  private volatile boolean subscribed;
  private RunningStage current;
  /** When the running stage's record lock is next renewed (System.nanoTime). */
  private long nextRenewNanos;
  private boolean lockLost;
  /** Until when the slot claims nothing, after an infrastructure fault here (System.nanoTime). */
  private long pausedUntilNanos;
  /** Whether the slot left the share group for its pause (so records fetched for it go back at once). */
  private boolean leftForPause;

  TaskSlot(String name, Settings settings, WorkerTransport transport, StageRunner runner, EventSink publisher, Clock clock,
      Consumer<RunningStage> onStart, Consumer<RunningStage> onEnd, BuildControl control, int maxProgramVersion) {
    this.name = name;
    this.maxProgramVersion = maxProgramVersion;
    this.control = control;
    this.settings = settings;
    this.transport = transport;
    this.runner = runner;
    this.publisher = publisher;
    this.clock = clock;
    this.onStart = onStart;
    this.onEnd = onEnd;
  }

  String name() {
    return name;
  }

  long handedBack() {
    return handedBack;
  }

  boolean stopping() {
    return stopping;
  }

  Duration sinceLastTurn() {
    return Duration.ofNanos(System.nanoTime() - lastTurnNanos);
  }

  /** Whether the slot takes tasks (or runs one): subscribed, not paused after a fault, not stopping. */
  boolean consuming() {
    return subscribed && !stopping;
  }

  /** Stops claiming; a running stage gets {@code shutdownGrace} to finish, then is cancelled and released. */
  void stop() {
    stopDeadlineNanos = System.nanoTime() + settings.shutdownGrace().toNanos();
    stopping = true;
    wake.release();
    TaskChannel c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  /**
   * Serves the slot until it is stopped. A failure of the slot's loop (a bug, a channel in a state it
   * cannot leave) closes its channel, which hands its record back, abandons the stage it ran, and
   * opens a new channel after {@link #RESTART_PAUSE}: a worker that lives for hours (the local farm's)
   * must not lose its slots one by one.
   */
  @Override
  public void run() {
    while (!stopping) {
      try {
        serve();
      } catch (RuntimeException e) {
        restarts++;
        log.error("task slot {} failed ({}); abandoning its stage, serving again in {}", name, e.toString(),
            RESTART_PAUSE, e);
        abandonCurrent();
        pause(RESTART_PAUSE);
      }
    }
  }

  /** After a failed loop: how long the slot claims nothing before it opens a new channel. */
  static final Duration RESTART_PAUSE = Duration.ofSeconds(1);

  /** How often this slot's loop failed and was started again. */
  long restarts() {
    return restarts;
  }

  private void serve() {
    try (TaskChannel c = transport.taskChannel(settings.workerId() + "-" + name)) {
      consumer = c;
      c.onAcknowledgeFailure(this::onAcknowledged);
      c.subscribe(settings.taskTopics());
      subscribed = true;
      leftForPause = false;
      while (!(stopping && current == null)) {
        lastTurnNanos = System.nanoTime();
        try {
          pollOnce(c);
        } catch (TaskChannel.Unavailable e) {
          // a broker slow to answer (a commit past its timeout) or briefly away: Kafka's own word
          // (RetriableException) that the call may succeed later. Ending the loop here would leave the worker without
          // this slot for good; a lost renewal shows as a lost lock through the commit callback
          log.warn("slot {}: a task queue call failed ({}); going on", name, e.getMessage());
          backOff();
        }
      }
      commit(c, Duration.ofSeconds(5));
    } finally {
      subscribed = false;
      consumer = null;
    }
  }

  /**
   * The stage of a slot whose loop failed: its record went back with the closed channel and may run
   * elsewhere, so it is cancelled as on shutdown (its outcome: released) and no longer the slot's.
   */
  private void abandonCurrent() {
    RunningStage stage = current;
    current = null;
    if (stage != null && !stage.finished()) {
      stage.cancel(new RunningStage.Shutdown());
    }
  }

  /** Sleeps {@code pause} unless the slot stops meanwhile. */
  private void pause(Duration pause) {
    try {
      if (wake.tryAcquire(pause.toNanos(), TimeUnit.NANOSECONDS)) {
        wake.drainPermits();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping = true;
    }
  }

  private void pollOnce(TaskChannel c) {
    if (stopping && current != null && !current.finished() && System.nanoTime() > stopDeadlineNanos) {
      current.cancel(new RunningStage.Shutdown());
    }
    if (current != null && !current.finished() && clock.millis() >= current.deadlineMs) {
      current.cancel(new RunningStage.DeadlinePassed(current.deadlineMessage()));
    }
    if (current != null && !current.finished() && System.nanoTime() < nextRenewNanos) {
      parkWhileRunning();
      return;
    }
    if (current == null && System.nanoTime() < pausedUntilNanos) {
      if (!leftForPause) {
        // out of the group: the broker releases what the consumer fetched ahead, and hands this
        // slot nothing (not even the very task that just failed here) until the pause ends
        c.unsubscribe();
        subscribed = false;
        leftForPause = true;
      }
      pauseSlice();
      return;
    }
    if (leftForPause) {
      c.subscribe(settings.taskTopics());
      subscribed = true;
      leftForPause = false;
    }
    List<TaskDelivery> records;
    try {
      records = c.poll(awaitingOutcomeAck() ? FINISHED_POLL : settings.pollTimeout());
    } catch (TaskChannel.Woken woken) {
      return;
    }
    for (TaskDelivery record : records) {
      handle(c, record);
    }
    if (!records.isEmpty()) {
      // at once, a RENEW too: the slot may park next, and the lock must be extended before that
      commit(c, Duration.ofSeconds(10));
    }
    abandonIfLockLost();
  }

  /**
   * A running stage needs nothing from the consumer until its record lock is due for renewal: the
   * slot sleeps until then, until the stage ends (its thread wakes us), the slot stops, or the
   * stage's deadline passes. Polling instead would spin: after a RENEW the consumer hands the same
   * record back at once (issue 12: ~1.3 cores per running stage).
   */
  private void parkWhileRunning() {
    long now = System.nanoTime();
    long waitNanos = nextRenewNanos - now;
    // Long.MAX_VALUE when the task has no deadline: compare in milliseconds, no overflow
    long toDeadlineMs = current.deadlineMs - clock.millis();
    waitNanos = Math.min(waitNanos, TimeUnit.MILLISECONDS.toNanos(Math.max(0, toDeadlineMs)));
    if (stopping) {
      waitNanos = Math.min(waitNanos, stopDeadlineNanos - now);
    }
    if (waitNanos <= 0) {
      return;
    }
    try {
      if (wake.tryAcquire(waitNanos, TimeUnit.NANOSECONDS)) {
        wake.drainPermits();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop();
    }
  }

  /** How long a renewed record lock may go before the next renewal: a third of the group's lock. */
  private static long renewIntervalNanos(TaskChannel c) {
    long lockMs = c.lockDuration().orElse(DEFAULT_LOCK).toMillis();
    return Duration.ofMillis(Math.max(300, lockMs / RENEWALS_PER_LOCK)).toNanos();
  }

  /** After a failed Kafka call: one poll interval, so a broker that is away is not asked in a tight loop. */
  private void backOff() {
    try {
      Thread.sleep(settings.pollTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping = true;
    }
  }

  /** Sleeps a short slice of the pause, so a stop is noticed quickly. */
  private void pauseSlice() {
    long remaining = pausedUntilNanos - System.nanoTime();
    try {
      Thread.sleep(Duration.ofNanos(Math.min(remaining, settings.pollTimeout().toNanos())));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping = true;
    }
  }

  /**
   * A finished stage whose record is not back yet. The stage's wakeup can land just after this
   * thread renewed the record (it was still running when checked); the consumer then hands the
   * renewed record back only after that renewal's round trip, and a full-timeout poll did not
   * return before its timeout (measured: the acknowledgement came 1 s after the stage's end).
   * Short polls until the record is back bound that to about a round trip.
   */
  private boolean awaitingOutcomeAck() {
    return current != null && current.finished();
  }

  /** Sends the acknowledgements now; a wakeup (stop, a stage ending) interrupting it is retried once. */
  private static void commit(TaskChannel c, Duration timeout) {
    try {
      c.commit(timeout);
    } catch (TaskChannel.Woken woken) {
      c.commit(timeout);
    }
  }

  /** Acknowledges one delivered record (ACCEPT, RELEASE, REJECT, or RENEW for a running stage). */
  private void handle(TaskChannel c, TaskDelivery record) {
    if (current != null && current.isRecord(record)) {
      try (StageMdc ignored = StageMdc.of(current.task)) {
        handleCurrent(c, record);
      }
      return;
    }
    if (current != null || stopping) {
      // record_limit should prevent this; give it back untouched for another consumer. It waited in
      // this slot's consumer since its fetch, while other slots may have been free: say so
      log.info("slot {}: handing back task record {} (delivery {}), fetched while {}", name, record,
          record.deliveryCount(), stopping ? "stopping" : current.describe() + (current.finished() ? " was finishing" : " runs"));
      c.acknowledge(record, Ack.RELEASE);
      return;
    }
    if (!record.signedBy(settings.farmKeys())) {
      // anyone who can write to the topic could otherwise make this worker run anything and write
      // any cache record: only the coordinator holds the key; REJECT so no worker ever runs it
      log.error("rejecting a task record at {} without a valid farm MAC (key id {}): not published by the"
              + " coordinator of this farm, or the farm keys differ", record, record.keyId());
      c.acknowledge(record, Ack.REJECT);
      return;
    }
    StageTask task;
    try {
      task = StageTask.parseFrom(record.value());
    } catch (InvalidProtocolBufferException e) {
      log.error("rejecting an unreadable task record at {}: {}", record, e.getMessage());
      c.acknowledge(record, Ack.REJECT);
      return;
    }
    try (StageMdc ignored = StageMdc.of(task)) {
      var verdict = control.check(task);
      if (verdict.isPresent()) {
        // nobody waits for it: running it would cost a slot and, for a poison stage, maybe the worker
        log.info("slot {}: dropping build {} stage {} attempt {} unrun: {}", name, task.getBuildId(), task.getStageId(),
            task.getAttempt(), verdict.get().reason());
        c.acknowledge(record, Ack.ACCEPT);
        return;
      }
      int version = task.getProgramVersion();
      if (version > maxProgramVersion) {
        // a rolling upgrade: a newer coordinator's task for a newer worker; not a failure of the
        // build, no event, no attempt: the broker redelivers it (one delivery spent) to another member
        handedBack++;
        log.info("slot {}: handing back build {} stage {} attempt {}: its program version {} is newer than this"
                + " worker runs ({}); claiming nothing for {}", name, task.getBuildId(), task.getStageId(),
            task.getAttempt(), version, maxProgramVersion, HAND_BACK_PAUSE);
        c.acknowledge(record, Ack.RELEASE);
        pausedUntilNanos = System.nanoTime() + HAND_BACK_PAUSE.toNanos();
        return;
      }
      start(record, task);
      renew(c, record);
    }
  }

  /** The record of the stage this slot runs: renewed while it runs, acknowledged with its outcome after. */
  private void handleCurrent(TaskChannel c, TaskDelivery record) {
    if (!current.finished()) {
      renew(c, record);
      return;
    }
    c.acknowledge(record, current.outcome().ack());
    log.debug("slot {}: {} acknowledged {}", name, current.describe(), current.outcome().ack());
    if (current.outcome() instanceof RunningStage.Failed failed && failed.failure().retriable()
        && settings.faultPause().isPositive()) {
      // the fault may be this worker's (a full disk, a broken runtime): let a healthy worker take the retry
      log.warn("slot {}: {} failed on an infrastructure fault; claiming nothing for {}", name, current.describe(),
          settings.faultPause());
      pausedUntilNanos = System.nanoTime() + settings.faultPause().toNanos();
    }
    current = null;
  }

  /** Extends the record's lock; the caller commits at once, then the slot parks until the next renewal. */
  private void renew(TaskChannel c, TaskDelivery record) {
    c.acknowledge(record, Ack.RENEW);
    nextRenewNanos = System.nanoTime() + renewIntervalNanos(c);
  }

  private void start(TaskDelivery record, StageTask task) {
    int delivery = record.deliveryCount();
    TaskEvents events = new TaskEvents(task, settings.workerId(), clock, delivery);
    RunningStage stage = new RunningStage(record, task, events, publisher, clock.millis());
    current = stage;
    lockLost = false;
    log.info("slot {} took {} (delivery {})", name, stage.describe(), delivery);
    if (delivery > 1) {
      stage.announceStart(); // an earlier run may have been lost: the coordinator counts it from this one
    } else {
      RunningStage.announceLater(stage); // after START_EVENT_DELAY, unless the stage completed by then
    }
    onStart.accept(stage);
    Thread thread = Thread.ofVirtual().name("stage-" + task.getStageId()).unstarted(() -> execute(stage));
    stage.attach(thread);
    thread.start();
  }

  private void execute(RunningStage stage) {
    // whatever happens, the stage must end: a stage that never finishes would renew its record forever
    RunningStage.Outcome outcome = new RunningStage.Released();
    try (StageMdc ignored = StageMdc.of(stage.task)) {
      outcome = runAndReport(stage);
    } catch (Throwable t) {
      log.error("{}: the stage thread died; releasing the task", stage.describe(), t);
    } finally {
      stage.finish(outcome);
      onEnd.accept(stage);
      wake.release();
      TaskChannel c = consumer;
      if (c != null) {
        c.wakeup();
      }
      try {
        runner.stageReported(); // the runner's deferred teardown, off the stage's path (runpath, session 8)
      } catch (RuntimeException e) {
        log.warn("{}: after the report: {}", stage.describe(), e.toString());
      }
    }
  }

  private RunningStage.Outcome runAndReport(RunningStage stage) {
    StageTask task = stage.task;
    if (task.getDeadlineEpochMs() > 0 && clock.millis() > task.getDeadlineEpochMs()) {
      return report(stage, StageFailure.deadline(-1, "the build's deadline ("
          + java.time.Instant.ofEpochMilli(task.getDeadlineEpochMs()) + ") passed before a worker could start stage "
          + task.getStageName()));
    }
    if (stage.cancelled() != null) {
      return cancelled(stage, stage.cancelled());
    }
    try {
      ImageState result = runner.run(task, stage);
      try {
        StageEvent completed = stage.completesUnannounced()
            ? stage.events.completedUnannounced(result, stage.claimedAtMs) : stage.events.completed(result);
        publisher.publishDurably(completed, settings.outcomeTimeout());
        return new RunningStage.Completed(result);
      } catch (EventSink.PublishFailed e) {
        log.warn("{}: completed, but the completion event was not published; releasing the task", stage.describe());
        return new RunningStage.Released();
      }
    } catch (StageFailedException e) {
      // a RUN killed for a cancel may surface as its own failure (exit 137) before the interrupt
      return stage.cancelled() != null ? cancelled(stage, stage.cancelled()) : report(stage, e.failure());
    } catch (InterruptedException e) {
      return cancelled(stage, stage.cancelled() == null ? new RunningStage.Shutdown() : stage.cancelled());
    } catch (RuntimeException e) {
      if (stage.cancelled() != null) {
        return cancelled(stage, stage.cancelled());
      }
      log.error("{}: unexpected error", stage.describe(), e);
      return report(stage, StageFailure.infrastructure(stage.currentInstruction(), 0,
          "worker " + settings.workerId() + " failed: " + e));
    }
  }

  /** The outcome of a stage whose thread was interrupted, by why it was. */
  private RunningStage.Outcome cancelled(RunningStage stage, RunningStage.Cancel why) {
    return switch (why) {
      case RunningStage.Shutdown shutdown -> {
        log.info("{}: cancelled by shutdown; releasing the task", stage.describe());
        yield new RunningStage.Released();
      }
      case RunningStage.Superfluous superfluous -> {
        log.info("{}: stopped, {}", stage.describe(), superfluous.reason());
        yield new RunningStage.Abandoned(superfluous.reason());
      }
      case RunningStage.DeadlinePassed deadline -> {
        log.info("{}: {}", stage.describe(), deadline.message());
        yield report(stage, StageFailure.deadline(stage.currentInstruction(), deadline.message()));
      }
    };
  }

  private RunningStage.Outcome report(RunningStage stage, StageFailure failure) {
    stage.announceStart(); // a failure is never unannounced: its run shows as before
    try {
      publisher.publishDurably(stage.events.failed(failure), settings.outcomeTimeout());
      return new RunningStage.Failed(failure);
    } catch (EventSink.PublishFailed e) {
      log.warn("{}: failed, but the failure event was not published; releasing the task: {}", stage.describe(),
          e.getMessage());
      return new RunningStage.Released();
    }
  }

  /**
   * Called on this thread during poll/commit with the broker's answer. A failed RENEW means the
   * lock was lost (e.g. a long GC pause): the record may already be running elsewhere.
   */
  private void onAcknowledged(TaskChannel.AckFailure failure) {
    if (current == null) {
      return;
    }
    if (failure.partition() == current.partition && failure.topic().equals(current.delivery.topic())
        && failure.offsets().contains(current.offset)) {
      log.warn("slot {}: acknowledging {} failed ({}); the record may be redelivered elsewhere",
          name, current.describe(), failure.error().toString());
      lockLost = true;
    }
  }

  /**
   * A finished stage whose record the broker no longer returns (its lock was lost) would block the
   * slot forever; after a while, let it go. Its result was published either way: duplicates are
   * harmless because layers are content-addressed.
   */
  private void abandonIfLockLost() {
    if (current == null || !current.finished()) {
      return;
    }
    long waited = System.nanoTime() - current.finishedAtNanos();
    if (lockLost || waited > settings.outcomeTimeout().toNanos()) {
      log.warn("slot {}: {} finished but its record was not returned again; dropping it", name, current.describe());
      current = null;
    }
  }
}
