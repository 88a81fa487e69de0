package dev.stagefarm.coordinator;

/**
 * A submission the scheduling policy does not admit (docs/operations.md, "Scheduling"); nothing
 * was planned or recorded. The message names the limit or bound and its setting.
 */
public final class AdmissionRefused extends RuntimeException {
  /** Why: a limit that frees up as work finishes, or a request the policy never allows. */
  public enum Reason {
    /** RESOURCE_EXHAUSTED: try again when the tenant's work has drained. */
    OVER_LIMIT,
    /** PERMISSION_DENIED: a priority over the tenant's bound, or a tenant not the caller's. */
    NOT_ALLOWED
  }

  private final Reason reason;

  public AdmissionRefused(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
