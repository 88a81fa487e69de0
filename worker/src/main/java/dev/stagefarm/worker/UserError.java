package dev.stagefarm.worker;

/**
 * The build itself is wrong: a RUN exiting non-zero, a missing COPY source, an unknown --chown user,
 * a hostile context entry or archive, a directory copied onto a file. It fails the same way on any
 * worker, so the stage fails at once and is never retried. Thrown where the failure is found; the
 * op pipeline adds the op's index and Dockerfile line. Anything else that goes wrong (an
 * IOException from S3, Kafka or the disk) is an infrastructure fault and may be retried elsewhere.
 */
public class UserError extends Exception {
  private final int exitCode;
  private final String outputTail;

  public UserError(String message) {
    this(message, -1, "");
  }

  /** A process that exited non-zero: its exit code and the last lines of its output. */
  public UserError(String message, int exitCode, String outputTail) {
    super(message);
    this.exitCode = exitCode;
    this.outputTail = outputTail;
  }

  public int exitCode() {
    return exitCode;
  }

  public String outputTail() {
    return outputTail;
  }
}
