package dev.stagefarm.dockerfile.instructions;

import java.util.ArrayDeque;
import java.util.Deque;

/** Container paths the way BuildKit resolves them on Linux ({@code path.Clean}, {@code Join}). */
public final class PosixPaths {

  private PosixPaths() {}

  /**
   * BuildKit's {@code NormalizeWorkdir}: a WORKDIR relative to the current one, cleaned.
   *
   * @param current the working directory so far ({@code ""} or {@code "/"} at the start)
   * @param path the WORKDIR argument, expanded
   */
  public static String resolveWorkdir(String current, String path) {
    if (path.isEmpty()) {
      throw new IllegalArgumentException("cannot normalize empty path");
    }
    return path.startsWith("/") ? clean(path) : clean("/" + current + "/" + path);
  }

  /**
   * BuildKit's {@code pathRelativeToWorkingDir} for a COPY/ADD destination: relative to the
   * working directory, cleaned, a trailing {@code /} kept (it means "into this directory").
   */
  public static String resolveDestination(String workdir, String dest) {
    String p = dest.isEmpty() || dest.equals(".") ? "./" : dest;
    String resolved = p.startsWith("/") ? clean(p) : clean("/" + workdir + "/" + p);
    boolean keepSlash = p.endsWith("/") || p.endsWith("/.");
    return keepSlash && !resolved.equals("/") ? resolved + "/" : resolved;
  }

  /** Go's {@code path.Clean} for absolute and relative slash-separated paths. */
  public static String clean(String path) {
    if (path.isEmpty()) {
      return ".";
    }
    boolean rooted = path.startsWith("/");
    Deque<String> parts = new ArrayDeque<>();
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (!parts.isEmpty() && !parts.peekLast().equals("..")) {
          parts.removeLast();
        } else if (!rooted) {
          parts.addLast("..");
        }
        continue;
      }
      parts.addLast(part);
    }
    String joined = String.join("/", parts);
    if (rooted) {
      return "/" + joined;
    }
    return joined.isEmpty() ? "." : joined;
  }
}
