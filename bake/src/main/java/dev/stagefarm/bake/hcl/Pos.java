package dev.stagefarm.bake.hcl;

/** A place in a source file: {@code file:line:col}, 1-based, the way buildx names HCL positions. */
public record Pos(String file, int line, int col) {
  @Override
  public String toString() {
    return file + ":" + line + ":" + col;
  }
}
