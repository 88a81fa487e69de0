package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.store.LayerRef;
import dev.stagefarm.worker.transport.Ack;
import dev.stagefarm.worker.transport.EventSink;
import dev.stagefarm.worker.transport.TaskDelivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One claimed task record and the stage executing for it. Written by the stage thread (progress,
 * outcome), read by the slot's consumer thread (acknowledgement) and the heartbeat timer.
 */
final class RunningStage implements StageProgress {

  /** How the stage ended, which decides the record's acknowledgement. */
  sealed interface Outcome {
    Ack ack();
  }

  record Completed(ImageState result) implements Outcome {
    public Ack ack() {
      return Ack.ACCEPT;
    }
  }

  /** Build failures are accepted (they fail the same way anywhere); faults are released for a retry. */
  record Failed(StageFailure failure) implements Outcome {
    public Ack ack() {
      return failure.retriable() ? Ack.RELEASE : Ack.ACCEPT;
    }
  }

  /** Cancelled by a worker shutdown: another worker takes the record at once. */
  record Released() implements Outcome {
    public Ack ack() {
      return Ack.RELEASE;
    }
  }

  /** Stopped because nobody needs it any more (its build ended, its attempt was superseded): no event, no retry. */
  record Abandoned(String reason) implements Outcome {
    public Ack ack() {
      return Ack.ACCEPT;
    }
  }

  /** Why the stage thread was interrupted; decides the outcome it reports. */
  sealed interface Cancel {}

  /** The worker shuts down: release the record for another worker. */
  record Shutdown() implements Cancel {}

  /** A control message: the build ended or a newer attempt exists. */
  record Superfluous(String reason) implements Cancel {}

  /** The task's deadline passed: fail the stage, naming the deadline. */
  record DeadlinePassed(String message) implements Cancel {}

  /**
   * How long a stage runs before its {@code started} event goes out: one that completes sooner
   * publishes no {@code started}, its {@code completed} says when it started, which saves a signed
   * event and its check per stage where many stages end at once (cache hits, no-ops: issue 12). Its
   * progress events (log chunks, ops done) of that time are held and go out in order, after the
   * {@code started} if the stage is still running at the delay, else just before the {@code
   * completed}. A heartbeat, a failure, a redelivered task (delivery count above 1: an earlier run
   * may have been lost, which the coordinator counts from the {@code started}) or more than {@link
   * #MAX_HELD_EVENTS} progress events send the {@code started} at once (docs/protocol.md, "One
   * event for a stage that ends at once"). Far below every lease (queue lease, record lock,
   * heartbeat timeout: seconds).
   */
  static final Duration START_EVENT_DELAY = Duration.ofMillis(50);
  /** Progress events held during the start delay at most; one more announces the start (bounded memory). */
  static final int MAX_HELD_EVENTS = 32;

  /**
   * One daemon thread per process that sends the delayed {@code started} events: a publish does not
   * block (the producer buffers), and it must not wait behind other work (the common pool has one
   * thread on a 2-core machine).
   */
  private static final ScheduledExecutorService ANNOUNCER =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("stage-start-announcer").factory());

  /** Sends {@code stage}'s {@code started} after {@link #START_EVENT_DELAY}, unless it completed by then. */
  static void announceLater(RunningStage stage) {
    ANNOUNCER.schedule(stage::announceStart, START_EVENT_DELAY.toMillis(), TimeUnit.MILLISECONDS);
  }

  final TaskDelivery delivery;
  final int partition;
  final long offset;
  final StageTask task;
  final TaskEvents events;
  final long claimedAtMs;
  /** When the stage must be over (epoch ms): the stage timeout from the claim or the build's deadline. */
  final long deadlineMs;
  private final EventSink publisher;
  private volatile Cancel cancel;
  private final AtomicInteger instruction = new AtomicInteger(-1);
  private volatile Outcome outcome;
  private volatile Thread thread;
  private volatile long finishedAtNanos;
  /** Whether {@code started} went out, or the completion went out without it; guarded by this. */
  private boolean startPublished;
  private boolean startSkipped;
  /** Progress events of the start delay, not published yet; guarded by this. */
  private final List<StageEvent> held = new ArrayList<>();
  /** Made when the task was claimed, so its timestamp is the claim's, whenever it goes out. */
  private final StageEvent started;

  RunningStage(TaskDelivery record, StageTask task, TaskEvents events, EventSink publisher, long claimedAtMs) {
    this.delivery = record;
    this.partition = record.partition();
    this.offset = record.offset();
    this.task = task;
    this.events = events;
    this.publisher = publisher;
    this.claimedAtMs = claimedAtMs;
    this.started = events.started();
    long stageEnd = task.getStageTimeoutMs() > 0 ? claimedAtMs + task.getStageTimeoutMs() : Long.MAX_VALUE;
    long buildEnd = task.getDeadlineEpochMs() > 0 ? task.getDeadlineEpochMs() : Long.MAX_VALUE;
    this.deadlineMs = Math.min(stageEnd, buildEnd);
  }

  /** The user-facing message when {@link #deadlineMs} passes, naming which deadline it was. */
  String deadlineMessage() {
    long stageEnd = task.getStageTimeoutMs() > 0 ? claimedAtMs + task.getStageTimeoutMs() : Long.MAX_VALUE;
    if (stageEnd <= deadlineMs) {
      return "stage " + task.getStageName() + " ran past its deadline of "
          + Duration.ofMillis(task.getStageTimeoutMs()) + " (coordinator setting stage-deadline); killed";
    }
    return "stage " + task.getStageName() + " ran past the build's deadline, "
        + java.time.Instant.ofEpochMilli(task.getDeadlineEpochMs())
        + " (coordinator setting build-deadline); killed";
  }

  boolean isRecord(TaskDelivery record) {
    return delivery.sameRecord(record);
  }

  void attach(Thread stageThread) {
    this.thread = stageThread;
  }

  /**
   * Interrupts the stage thread: the runner kills its container and returns. The first reason
   * given decides the outcome.
   */
  synchronized void cancel(Cancel why) {
    if (cancel != null || finished()) {
      return;
    }
    cancel = why;
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }

  void finish(Outcome result) {
    this.finishedAtNanos = System.nanoTime();
    this.outcome = result;
  }

  /**
   * Publishes the {@code started} event, then the held progress events, unless it went out already
   * or the stage completed without it. Under this object's lock, so that what the stage publishes
   * after is sent after them (one producer, one partition: the coordinator reads them in order).
   */
  synchronized void announceStart() {
    // a stage that already ended (released, abandoned) within the delay announces nothing late
    if (!startPublished && !startSkipped && !finished()) {
      startPublished = true;
      publisher.publish(started);
      publishHeld();
    }
  }

  /**
   * For the completion: whether it goes out without a {@code started} (none was published, and
   * from now on none will be); the held progress events are published first.
   */
  synchronized boolean completesUnannounced() {
    if (startPublished) {
      return false;
    }
    startSkipped = true;
    publishHeld();
    return true;
  }

  /** Publishes {@code event} now, or holds it while the start is not announced yet. */
  private void progress(StageEvent event) {
    synchronized (this) {
      if (!startPublished && !startSkipped && held.size() < MAX_HELD_EVENTS) {
        held.add(event);
        return;
      }
    }
    announceStart();
    publisher.publish(event);
  }

  private void publishHeld() {
    held.forEach(publisher::publish);
    held.clear();
  }

  /** Why the stage was cancelled; null when it was not. */
  Cancel cancelled() {
    return cancel;
  }

  Outcome outcome() {
    return outcome;
  }

  boolean finished() {
    return outcome != null;
  }

  long finishedAtNanos() {
    return finishedAtNanos;
  }

  int currentInstruction() {
    return instruction.get();
  }

  String describe() {
    return "build " + task.getBuildId() + " stage " + task.getStageId() + " attempt " + task.getAttempt();
  }

  @Override
  public void instructionStarted(int index) {
    instruction.set(index);
  }

  @Override
  public void log(int index, byte[] data, boolean stderr) {
    progress(events.log(index, data, stderr));
  }

  @Override
  public void instructionDone(int index, Optional<LayerRef> layer, boolean cached, long startedMs, long finishedMs) {
    progress(events.instructionDone(index, layer, cached, startedMs, finishedMs));
  }
}
