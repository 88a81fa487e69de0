package dev.stagefarm.dockerfile;

/**
 * A problem with a Dockerfile, located at a line: the one kind of error the frontend throws.
 *
 * <p>{@link #getMessage()} reads {@code "line 4: unknown instruction: FRM"}; callers that know the
 * file name print {@link #describe(String)}, e.g. {@code "Dockerfile:4: unknown instruction: FRM"},
 * the way BuildKit reports it. A line of 0 means the problem has no single line (e.g. an unknown
 * target or an empty file).
 */
public class DockerfileException extends RuntimeException {
  private final int line;
  private final String problem;

  public DockerfileException(int line, String problem) {
    super(line > 0 ? "line " + line + ": " + problem : problem);
    this.line = line;
    this.problem = problem;
  }

  public DockerfileException(int line, String problem, Throwable cause) {
    super(line > 0 ? "line " + line + ": " + problem : problem, cause);
    this.line = line;
    this.problem = problem;
  }

  /** The 1-based line the problem starts on, or 0 when it has none. */
  public int line() {
    return line;
  }

  /** The problem without location, e.g. {@code "unknown instruction: FRM"}. */
  public String problem() {
    return problem;
  }

  /** The problem as a user sees it: {@code FILE:LINE: problem}, or {@code FILE: problem}. */
  public String describe(String fileName) {
    return line > 0 ? fileName + ":" + line + ": " + problem : fileName + ": " + problem;
  }
}
