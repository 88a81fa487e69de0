package dev.stagefarm.dockerfile.shell;

import dev.stagefarm.dockerfile.internal.GoText;

/**
 * A word could not be expanded: bad {@code ${...}} syntax, an unterminated quote, an unsupported
 * modifier, an invalid pattern, or a {@code ${NAME?message}} whose variable is unset (or, with
 * {@code :?}, empty).
 *
 * <p>The message is BuildKit's, e.g. {@code failed to process "${PWD:=x}": unsupported modifier
 * (:=) in substitution}. Callers that know the Dockerfile line add it in front (for instance
 * through {@code DockerfileException}); {@link #reason()} is the part after the colon.
 */
public class ShellExpansionException extends RuntimeException {
  private final String word;
  private final String reason;

  public ShellExpansionException(String word, String reason) {
    super("failed to process " + GoText.quote(word) + ": " + reason);
    this.word = word;
    this.reason = reason;
  }

  /** The word as it was given to the lexer, before expansion. */
  public String word() {
    return word;
  }

  /** Why it failed, without the word: e.g. {@code syntax error: missing '}'}. */
  public String reason() {
    return reason;
  }
}
