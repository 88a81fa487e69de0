package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import java.util.Objects;
import java.util.Optional;

/**
 * What a worker reported about one attempt of one stage.
 *
 * @param attempt the attempt it is about; events of older attempts are ignored
 * @param workerId empty when the worker did not say
 */
public record WorkerEvent(String buildId, String stageId, int attempt, String workerId, Kind kind) {

  public WorkerEvent {
    Objects.requireNonNull(kind, "kind");
  }

  public sealed interface Kind {}

  /** @param deliveryCount how often Kafka has handed out the task record, this run included */
  public record Started(int deliveryCount) implements Kind {
    public Started() {
      this(1);
    }
  }

  public record Heartbeat() implements Kind {}

  /**
   * Not about a stage: a worker process runs, takes tasks for these platforms and has these task
   * slots. Numbers are as the worker sent them (bounded by {@code WorkerSlots}).
   *
   * @param free its slots not running a stage when it sent this
   * @param intervalMs when its next announcement is due
   * @param sentMs when it sent it, by its clock
   */
  public record Present(java.util.List<dev.stagefarm.oci.Platform> platforms, int slots, int free, long intervalMs,
      long sentMs) implements Kind {
    public Present {
      platforms = java.util.List.copyOf(platforms);
    }
  }

  /** A piece of an op's output. */
  public record Log(int opIndex, byte[] data, boolean stderr) implements Kind {
    public Log {
      data = data.clone();
    }

    @Override
    public byte[] data() {
      return data.clone();
    }
  }

  /** An op finished: ran or taken from the cache, with the layer it made, if any. */
  public record OpDone(int opIndex, Optional<LayerRef> layer, boolean cached, long startedMs, long finishedMs)
      implements Kind {}

  /**
   * @param unannouncedRunMs how long the stage ran when the worker published no {@code started} for
   *     the attempt (it ended within the worker's start delay); -1 when it did
   * @param deliveryCount how often Kafka has handed out the task record, this run included
   */
  public record Completed(StageResult result, long unannouncedRunMs, int deliveryCount) implements Kind {
    /** The completion of an attempt whose start was announced. */
    public Completed(StageResult result) {
      this(result, -1, 1);
    }

    public boolean unannounced() {
      return unannouncedRunMs >= 0;
    }
  }

  /**
   * @param line the Dockerfile line of the failing op, or 0
   * @param exitCode the process's exit code, or -1 when no process exited
   * @param retriable an infrastructure fault: another attempt may succeed
   * @param deadline the worker killed the stage at its stage or build deadline (a farm failure)
   */
  public record Failed(int opIndex, int line, int exitCode, String message, String outputTail, boolean retriable,
      boolean deadline) implements Kind {
    public Failed(int opIndex, int line, int exitCode, String message, String outputTail, boolean retriable) {
      this(opIndex, line, exitCode, message, outputTail, retriable, false);
    }
  }
}
