package dev.stagefarm.config;

/**
 * Where a value came from, for errors and {@code --print-config}.
 *
 * @param where the file, variable or flag ("config file worker.yaml", "environment STAGEFARM_KAFKA")
 */
public record Source(Kind kind, String where) {

  /** In rising precedence. */
  public enum Kind { DEFAULT, FILE, ENVIRONMENT, FLAG }

  public static final Source DEFAULT = new Source(Kind.DEFAULT, "default");

  public static Source file(java.nio.file.Path file) {
    return new Source(Kind.FILE, "config file " + file);
  }

  public static Source env(String variable) {
    return new Source(Kind.ENVIRONMENT, "environment " + variable);
  }

  public static Source flag(String name) {
    return new Source(Kind.FLAG, "flag --" + name);
  }

  @Override
  public String toString() {
    return where;
  }
}
