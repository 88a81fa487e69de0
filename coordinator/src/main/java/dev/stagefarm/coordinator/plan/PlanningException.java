package dev.stagefarm.coordinator.plan;

/**
 * The build cannot be planned because of its input: a Dockerfile error, an unknown target, a base
 * image that does not exist or a registry that cannot be reached. The message is for the user.
 */
public class PlanningException extends Exception {
  public PlanningException(String message) {
    super(message);
  }

  public PlanningException(String message, Throwable cause) {
    super(message, cause);
  }
}
