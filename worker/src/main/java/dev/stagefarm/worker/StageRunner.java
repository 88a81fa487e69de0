package dev.stagefarm.worker;

import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.StageTask;

/**
 * Executes one stage task to its result. The task loop owns Kafka (claiming, lock renewal,
 * started/completed/failed events); a runner only executes and reports progress through the
 * {@link StageProgress} it is given.
 */
@FunctionalInterface
public interface StageRunner {

  /**
   * @return the stage's resulting filesystem (ordered layers) and image config
   * @throws StageFailedException when the stage fails (build error or infrastructure fault)
   * @throws InterruptedException when the worker cancels the stage (shutdown)
   */
  ImageState run(StageTask task, StageProgress progress) throws StageFailedException, InterruptedException;

  /**
   * The stage that {@link #run} ran has reported its outcome (or given up reporting): work the runner
   * kept off the stage's path (tearing down what it used, preparing for the next stage) may start now.
   * Must not block.
   */
  default void stageReported() {}
}
