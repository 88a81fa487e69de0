package dev.stagefarm.dockerfile.shell;

/**
 * Unwinds one expansion run on the first problem; {@link ShellLex} turns it into a {@link
 * ShellExpansionException} that names the whole word, as BuildKit's {@code errors.Wrapf} does.
 * Carries no stack trace: it is control flow, never shown.
 */
final class ExpansionFailure extends RuntimeException {
  ExpansionFailure(String reason) {
    super(reason, null, false, false);
  }
}
