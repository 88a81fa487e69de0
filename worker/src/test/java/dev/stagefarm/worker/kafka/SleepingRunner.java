package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.StageRunner;

/**
 * A stand-in for the executor in protocol tests: "runs" a stage by sleeping {@code sleepMs} (a
 * build arg of the task) and returns an image state naming the worker that ran it.
 */
final class SleepingRunner implements StageRunner {
  private final String workerId;
  private final long fixedSleepMs;

  SleepingRunner(String workerId) {
    this(workerId, -1);
  }

  /** Sleeps {@code fixedSleepMs} whatever the task says (a worker that will be killed mid-stage). */
  SleepingRunner(String workerId, long fixedSleepMs) {
    this.workerId = workerId;
    this.fixedSleepMs = fixedSleepMs;
  }

  @Override
  public ImageState run(StageTask task, StageProgress progress) throws InterruptedException {
    progress.instructionStarted(0);
    Thread.sleep(fixedSleepMs >= 0 ? fixedSleepMs : Long.parseLong(task.getBuildArgsOrDefault("sleepMs", "0")));
    return ImageState.newBuilder().setOrigin("ran-by:" + workerId).build();
  }
}
