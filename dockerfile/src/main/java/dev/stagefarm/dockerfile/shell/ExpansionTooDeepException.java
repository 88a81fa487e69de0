package dev.stagefarm.dockerfile.shell;

/**
 * A word whose {@code ${…}} references nest deeper than {@link #MAX_NESTING} levels: a limit of
 * ours (BuildKit has none), so that a hostile Dockerfile cannot overflow the expanding thread's
 * stack. Its message does not repeat the word, which may be most of a 64 KiB line.
 */
public final class ExpansionTooDeepException extends ShellExpansionException {
  /** How deep {@code ${…}} may nest; real Dockerfiles nest a handful of levels. */
  public static final int MAX_NESTING = 100;

  static final String REASON = "variable expansion nested deeper than " + MAX_NESTING + " levels";

  ExpansionTooDeepException(String word) {
    super(word, REASON);
  }

  @Override
  public String getMessage() {
    return REASON;
  }
}
