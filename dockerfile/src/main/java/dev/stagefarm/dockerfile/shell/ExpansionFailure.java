package dev.stagefarm.dockerfile.shell;

/**
 * Unwinds one expansion run on the first problem; {@link ShellLex} turns it into a {@link
 * ShellExpansionException} that names the whole word, as BuildKit's {@code errors.Wrapf} does.
 * Carries no stack trace: it is control flow, never shown.
 */
final class ExpansionFailure extends RuntimeException {
  private final boolean tooDeep;

  ExpansionFailure(String reason) {
    this(reason, false);
  }

  /** @param tooDeep the word nests deeper than the lexer goes: a limit, not a syntax error */
  ExpansionFailure(String reason, boolean tooDeep) {
    super(reason, null, false, false);
    this.tooDeep = tooDeep;
  }

  boolean tooDeep() {
    return tooDeep;
  }
}
