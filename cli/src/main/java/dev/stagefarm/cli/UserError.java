package dev.stagefarm.cli;

/** An error caused by the user's input: printed as one line, no stack trace. */
public class UserError extends RuntimeException {
  private final int exitCode;

  public UserError(String message) {
    this(message, 1);
  }

  public UserError(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
    this.exitCode = 1;
  }

  public int exitCode() {
    return exitCode;
  }
}
