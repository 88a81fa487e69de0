package dev.stagefarm.coordinator.schedule;

/**
 * Why a stage attempt failed.
 *
 * @param message one clear line for the user (Dockerfile line, exit code, cause)
 * @param retriable an infrastructure fault: another attempt may succeed
 * @param byFarm not retried, yet the farm's failure rather than the build's (the worker killed the
 *     stage at a deadline): the build fails with infrastructure_failure, and the CLI exits 3
 */
public record StageFailure(String message, boolean retriable, boolean byFarm) {
  public StageFailure(String message, boolean retriable) {
    this(message, retriable, false);
  }
}
