package dev.stagefarm.coordinator.port;

/**
 * A write to the farm (a task, a build record) that did not happen, and what to do about it:
 * {@link Kind#RETRIABLE} (Kafka or the store unreachable: try again later, nothing is lost),
 * {@link Kind#REFUSED} (it can never succeed, e.g. a record over the broker's size limit: fail the
 * build with the message), {@link Kind#FENCED} (another coordinator has taken over: this one must
 * stop writing).
 */
public final class WriteFailure extends RuntimeException {
  public enum Kind { RETRIABLE, REFUSED, FENCED }

  private final Kind kind;

  public WriteFailure(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
