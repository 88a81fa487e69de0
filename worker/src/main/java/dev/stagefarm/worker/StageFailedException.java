package dev.stagefarm.worker;

/** Ends a stage's execution with a {@link StageFailure}; thrown by executors, caught by the slot. */
public final class StageFailedException extends Exception {
  private final transient StageFailure failure;

  public StageFailedException(StageFailure failure) {
    super(failure.message());
    this.failure = failure;
  }

  public StageFailedException(StageFailure failure, Throwable cause) {
    super(failure.message(), cause);
    this.failure = failure;
  }

  public StageFailure failure() {
    return failure;
  }
}
