package dev.stagefarm.worker.kafka;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.StageRunner;

/**
 * A stand-in for the executor in protocol tests: "runs" a stage by sleeping the milliseconds its
 * task's stage name says ({@code sleep:1500}) and returns an image state naming the worker that ran it.
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
    Thread.sleep(fixedSleepMs >= 0 ? fixedSleepMs : sleepMs(task));
    return ImageState.newBuilder().setOrigin("ran-by:" + workerId).build();
  }

  private static long sleepMs(StageTask task) {
    String name = task.getStageName();
    return name.startsWith("sleep:") ? Long.parseLong(name.substring("sleep:".length())) : 0;
  }
}
