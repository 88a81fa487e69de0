package dev.stagefarm.program;

/**
 * A build-context entry as a program carries it.
 *
 * @param path relative ('/'-separated, no {@code .} or {@code ..}) to what contains it
 * @param mode permission bits (07777)
 * @param digest {@code sha256:<hex>} of the contents, files only ({@code ""} otherwise)
 * @param linkTarget symlinks only ({@code ""} otherwise)
 * @param mtimeMs kept on the copy; not part of a cache key
 */
public record ContextFile(String path, Type type, int mode, String digest, long size, String linkTarget,
    long mtimeMs) {

  /** Entry kinds. */
  public enum Type {
    FILE,
    DIRECTORY,
    SYMLINK
  }

  public boolean isDirectory() {
    return type == Type.DIRECTORY;
  }
}
