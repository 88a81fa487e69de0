package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * SubmitBuild's answer for a build whose every stage the plan completed from the cache (a no-op
 * rebuild): such a build ends as soon as its image is assembled (a HEAD or two in the store), so
 * the answer waits for that end, within {@link #PATIENCE}, and carries the final status: a client
 * that shows no progress then needs no WatchBuild call (issue 12's warm path). A build with a
 * stage to run, or one still assembling after the patience (a push), is answered as before,
 * RUNNING, and followed with WatchBuild.
 */
final class CachedBuildEnd {
  /** Longer than any assembly from the store, short of a push to a slow registry. */
  static final Duration PATIENCE = Duration.ofSeconds(2);

  private CachedBuildEnd() {}

  /** {@code submitted}, or the build's status once it ended when every stage came from the cache. */
  static BuildStatus await(BuildCoordinator coordinator, BuildStatus submitted, Duration patience) {
    if (!completeFromCache(submitted)) {
      return submitted;
    }
    CountDownLatch ended = new CountDownLatch(1);
    ProgressLog.Watcher watcher = new ProgressLog.Watcher() {
      @Override
      public void next(BuildProgress progress) {}

      @Override
      public void end() {
        ended.countDown();
      }
    };
    String buildId = submitted.getBuildId();
    // after the last sequence there can be: entries already logged are not replayed to this watcher
    if (!coordinator.watch(buildId, Long.MAX_VALUE, watcher)) {
      return submitted;
    }
    try {
      if (!ended.await(patience.toMillis(), TimeUnit.MILLISECONDS)) {
        return submitted;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return submitted;
    } finally {
      coordinator.unwatch(buildId, watcher);
    }
    return coordinator.status(buildId).orElse(submitted);
  }

  /** Running with stages, each of them from the cache: only the image's assembly is left. */
  static boolean completeFromCache(BuildStatus status) {
    return status.getState() == BuildState.RUNNING && status.getStagesCount() > 0
        && status.getStagesList().stream().allMatch(stage -> stage.getState() == StageState.STAGE_CACHED);
  }
}
