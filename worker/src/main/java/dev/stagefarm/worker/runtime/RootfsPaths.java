package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * Resolves a path inside a root filesystem the way the container would see it, as BuildKit's copy
 * does ({@code fs.RootPath}, like {@code securejoin}): symlinks are followed relative to the root
 * (an absolute target starts again at the root), and ".." never climbs above it. No host path can
 * be reached: every component of a returned path below the root that exists is a real directory,
 * except the last one, which {@link #resolveParent} leaves unresolved for callers that must not
 * follow it (a write, chown or chmod replaces or changes the entry itself, never a link's target).
 *
 * <p>Nothing runs in a stage's rootfs while the worker writes to it (RUN containers have exited),
 * so a path resolved here stays valid while it is used.
 */
public final class RootfsPaths {
  private static final int MAX_LINKS = 40;

  private RootfsPaths() {}

  /**
   * Where a path's symlinks are read: the host path's own (a merged rootfs), or a layer stack's
   * topmost entry for it (a rootfs read without a mount).
   */
  @FunctionalInterface
  public interface Links {
    Links HOST = candidate -> Files.isSymbolicLink(candidate)
        ? Optional.of(Files.readSymbolicLink(candidate).toString()) : Optional.empty();

    /** The target of the symlink at {@code candidate}; empty when it is not a symlink (or missing). */
    Optional<String> read(Path candidate) throws IOException;
  }

  /**
   * Where {@code path} is in {@code root} with its parent resolved and its last component as
   * written, not followed: the entry itself (a symlink stays a symlink). The root for "/".
   *
   * @throws java.nio.file.FileSystemLoopException after too many symlinks (a build's error)
   */
  public static Path resolveParent(Path root, String path) throws IOException {
    return resolveParent(root, path, Links.HOST);
  }

  /** {@link #resolveParent(Path, String)} with symlinks read by {@code links}. */
  public static Path resolveParent(Path root, String path, Links links) throws IOException {
    String trimmed = path;
    while (trimmed.endsWith("/") && trimmed.length() > 1) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    int slash = trimmed.lastIndexOf('/');
    String name = trimmed.substring(slash + 1);
    Path parent = resolveLenient(root, slash < 0 ? "/" : trimmed.substring(0, slash + 1), links);
    if (name.isEmpty() || name.equals(".")) {
      return parent;
    }
    if (name.equals("..")) {
      return resolveLenient(root, trimmed, links);
    }
    return parent.resolve(name);
  }

  /** The host path of {@code path} in {@code root} with every symlink resolved; empty if a component is missing. */
  public static Optional<Path> resolve(Path root, String path) throws IOException {
    Path resolved = resolveLenient(root, path);
    return Files.exists(resolved, LinkOption.NOFOLLOW_LINKS) ? Optional.of(resolved) : Optional.empty();
  }

  /**
   * Like {@link #resolve} but returns the would-be location when the path (or its tail) does not
   * exist yet: where a COPY destination or a WORKDIR is to be created.
   *
   * @throws java.nio.file.FileSystemLoopException after too many symlinks (a build's error)
   */
  public static Path resolveLenient(Path root, String path) throws IOException {
    return resolveLenient(root, path, Links.HOST);
  }

  /** {@link #resolveLenient(Path, String)} with symlinks read by {@code links}. */
  public static Path resolveLenient(Path root, String path, Links links) throws IOException {
    Deque<String> todo = new ArrayDeque<>();
    pushComponents(todo, path);
    Deque<String> done = new ArrayDeque<>();
    int followed = 0;
    while (!todo.isEmpty()) {
      String c = todo.pop();
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        done.pollLast();
        continue;
      }
      Path candidate = join(root, done).resolve(c);
      Optional<String> link = links.read(candidate);
      if (link.isPresent()) {
        if (++followed > MAX_LINKS) {
          throw new FileSystemLoopException("too many levels of symbolic links resolving " + path);
        }
        String target = link.get();
        if (target.startsWith("/")) {
          done.clear();
        }
        pushComponents(todo, target);
        continue;
      }
      done.addLast(c);
    }
    return join(root, done);
  }

  private static void pushComponents(Deque<String> todo, String path) {
    String[] parts = path.split("/");
    for (int i = parts.length - 1; i >= 0; i--) {
      todo.push(parts[i]);
    }
  }

  private static Path join(Path root, Deque<String> components) {
    Path p = root;
    for (String c : components) {
      p = p.resolve(c);
    }
    return p;
  }
}
