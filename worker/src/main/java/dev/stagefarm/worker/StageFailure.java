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
 */
public record StageFailure(
    int instructionIndex, int line, int exitCode, String message, String outputTail, boolean retriable) {

  public static StageFailure infrastructure(int instructionIndex, int line, String message) {
    return new StageFailure(instructionIndex, line, -1, message, "", true);
  }

  public static StageFailure build(int instructionIndex, int line, String message) {
    return new StageFailure(instructionIndex, line, -1, message, "", false);
  }
}
