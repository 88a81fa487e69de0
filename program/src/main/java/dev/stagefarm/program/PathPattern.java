package dev.stagefarm.program;

/**
 * Go-compatible path patterns: the one matcher for COPY/ADD sources ({@code filepath.Match}), and
 * for .dockerignore and --exclude (moby's patternmatcher: {@code **} crosses '/').
 */
public final class PathPattern {
  /** Which dialect a pattern is written in. */
  public enum Syntax {
    /** Go's {@code filepath.Match}: {@code *}, {@code ?}, {@code [...]}, {@code \\}; nothing crosses '/'. */
    FILEPATH_MATCH,
    /** moby/patternmatcher (.dockerignore, --exclude): also {@code **}, which matches any number of directories. */
    PATTERN_MATCHER
  }

  private PathPattern() {}

  /** @throws IllegalArgumentException for a malformed pattern (Go's ErrBadPattern) */
  public static PathPattern compile(String pattern, Syntax syntax) {
    throw new UnsupportedOperationException("in progress");
  }

  /** Whether the whole '/'-separated, clean, relative {@code path} matches. */
  public boolean matches(String path) {
    throw new UnsupportedOperationException("in progress");
  }

  /** Whether {@code pattern} has wildcards ({@code * ? [} or, outside Windows, {@code \\}). */
  public static boolean hasMeta(String pattern) {
    throw new UnsupportedOperationException("in progress");
  }
}
