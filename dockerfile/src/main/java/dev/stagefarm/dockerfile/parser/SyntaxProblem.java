package dev.stagefarm.dockerfile.parser;

/** A problem found inside one instruction; the parser adds the line when it reports it. */
final class SyntaxProblem extends Exception {
  SyntaxProblem(String message) {
    super(message, null, false, false);
  }
}
