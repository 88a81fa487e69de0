package dev.stagefarm.worker;

/**
 * Why a stage did not complete. {@code retriable} separates infrastructure faults (S3, Kafka, a
 * runc that could not start: another attempt may succeed) from the user's build failing (a RUN
 * exiting non-zero, a missing COPY source: it fails the same way everywhere).
 *
 * @param instructionIndex index into the stage's instructions, -1 before the first
 * @param line 1-based Dockerfile line, 0 when unknown
 * @param exitCode the process exit code of a failing RUN, -1 otherwise
 * @param message one line for the user, naming the cause
 * @param outputTail the last lines of the failing RUN's output (empty otherwise)
 * @param deadline the worker killed the stage at its stage or build deadline
 */
public record StageFailure(
    int instructionIndex, int line, int exitCode, String message, String outputTail, boolean retriable,
    boolean deadline) {

  public StageFailure(int instructionIndex, int line, int exitCode, String message, String outputTail,
      boolean retriable) {
    this(instructionIndex, line, exitCode, message, outputTail, retriable, false);
  }

  /** The stage or build deadline passed: not retried (it would pass again), failed as the farm's. */
  public static StageFailure deadline(int instructionIndex, String message) {
    return new StageFailure(instructionIndex, 0, -1, message, "", false, true);
  }

  public static StageFailure infrastructure(int instructionIndex, int line, String message) {
    return new StageFailure(instructionIndex, line, -1, message, "", true);
  }

  public static StageFailure build(int instructionIndex, int line, String message) {
    return new StageFailure(instructionIndex, line, -1, message, "", false);
  }
}
