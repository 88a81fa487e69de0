package dev.stagefarm.program;

/** A program from the wire that is malformed or hostile (an unknown input, a relative path, …). */
public final class InvalidProgramException extends Exception {
  public InvalidProgramException(String message) {
    super(message);
  }
}
