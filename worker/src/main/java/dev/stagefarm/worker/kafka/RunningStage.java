package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.store.LayerRef;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One claimed task record and the stage executing for it. Written by the stage thread (progress,
 * outcome), read by the slot's consumer thread (acknowledgement) and the heartbeat timer.
 */
final class RunningStage implements StageProgress {

  /** How the stage ended, which decides the record's acknowledgement. */
  sealed interface Outcome {
    AcknowledgeType ack();
  }

  record Completed(ImageState result) implements Outcome {
    public AcknowledgeType ack() {
      return AcknowledgeType.ACCEPT;
    }
  }

  /** Build failures are accepted (they fail the same way anywhere); faults are released for a retry. */
  record Failed(StageFailure failure) implements Outcome {
    public AcknowledgeType ack() {
      return failure.retriable() ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT;
    }
  }

  /** Cancelled by a worker shutdown: another worker takes the record at once. */
  record Released() implements Outcome {
    public AcknowledgeType ack() {
      return AcknowledgeType.RELEASE;
    }
  }

  final String topic;
  final int partition;
  final long offset;
  final StageTask task;
  final TaskEvents events;
  final long claimedAtMs;
  private final EventPublisher publisher;
  private final AtomicInteger instruction = new AtomicInteger(-1);
  private volatile Outcome outcome;
  private volatile Thread thread;
  private volatile long finishedAtNanos;

  RunningStage(ConsumerRecord<?, ?> record, StageTask task, TaskEvents events, EventPublisher publisher, long claimedAtMs) {
    this.topic = record.topic();
    this.partition = record.partition();
    this.offset = record.offset();
    this.task = task;
    this.events = events;
    this.publisher = publisher;
    this.claimedAtMs = claimedAtMs;
  }

  boolean isRecord(ConsumerRecord<?, ?> record) {
    return record.offset() == offset && record.partition() == partition && record.topic().equals(topic);
  }

  void attach(Thread stageThread) {
    this.thread = stageThread;
  }

  /** Interrupts the stage thread: the runner kills its container and returns. */
  void cancel() {
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }

  void finish(Outcome result) {
    this.finishedAtNanos = System.nanoTime();
    this.outcome = result;
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
    publisher.publish(events.log(index, data, stderr));
  }

  @Override
  public void instructionDone(int index, Optional<LayerRef> layer, boolean cached, long startedMs, long finishedMs) {
    publisher.publish(events.instructionDone(index, layer, cached, startedMs, finishedMs));
  }
}
