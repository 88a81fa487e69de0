package dev.stagefarm.bake.hcl;

/** A problem in a bake file (syntax, evaluation, a limit), with where it is. */
public final class HclException extends RuntimeException {
  private final transient Pos pos;

  public HclException(Pos pos, String message) {
    super(pos == null ? message : pos + ": " + message);
    this.pos = pos;
  }

  /** Where the problem is, or null when it has no single place. */
  public Pos pos() {
    return pos;
  }
}
