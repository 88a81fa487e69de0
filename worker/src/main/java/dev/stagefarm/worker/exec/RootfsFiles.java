package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.layers.Trees;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.RootfsPaths;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The writes every file operation makes in a stage's rootfs (COPY, ADD, heredoc files, archive
 * unpacking, WORKDIR), over one rule: a path is resolved inside its root by {@link RootfsPaths}
 * (symlinks evaluated as if the root were {@code /}), every directory on the way is checked to be
 * a real directory below the root, and the last component is never followed: a file replaces a
 * symlink (or file) of that name, and owner, mode and times are set on the entry itself. The
 * overlay's merged dir is on the worker host, so an absolute symlink followed by the worker would
 * resolve on the host; nothing here lets that happen.
 */
final class RootfsFiles {
  private final Path root;

  RootfsFiles(Path root) {
    this.root = root;
  }

  Path root() {
    return root;
  }

  /** {@code path} with every symlink followed inside the root (BuildKit's {@code fs.RootPath}). */
  Path resolve(String path) throws IOException, UserError {
    try {
      return RootfsPaths.resolveLenient(root, path);
    } catch (FileSystemLoopException e) {
      throw new UserError(path + ": too many levels of symbolic links");
    }
  }

  /** {@code path} with its parent resolved inside the root and its last component not followed. */
  Path resolveParent(String path) throws IOException, UserError {
    try {
      return RootfsPaths.resolveParent(root, path);
    } catch (FileSystemLoopException e) {
      throw new UserError(path + ": too many levels of symbolic links");
    }
  }

  /** How messages name a host path below the root: as the container sees it. */
  String inRoot(Path p) {
    return "/" + root.relativize(p);
  }

  /**
   * Creates the missing directories down to {@code dir} (a resolved path below the root) with
   * {@code mode} and {@code owner}, as fsutil's {@code MkdirAll}; the existing ones must be real
   * directories.
   *
   * @return the directories created, top first
   */
  List<Path> mkdirs(Path dir, int mode, ResolvedUser owner) throws IOException, UserError {
    Path relative = checkedRelative(dir);
    List<Path> created = new ArrayList<>();
    Path current = root;
    for (Path name : relative) {
      if (name.toString().isEmpty()) {
        continue;
      }
      Path next = current.resolve(name);
      if (Files.isSymbolicLink(next)) {
        // resolved paths have none; one here would lead anywhere on the host
        throw new IOException("refusing to create " + next + ": " + inRoot(next) + " is a symlink");
      }
      if (!Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectory(next);
        FileAttrs.chown(next, owner.uid(), owner.gid());
        FileAttrs.setMode(next, mode); // after chown, which clears setgid
        created.add(next);
      } else if (!Files.isDirectory(next, LinkOption.NOFOLLOW_LINKS)) {
        throw new UserError("cannot create directory " + inRoot(dir) + ": " + inRoot(next) + " is not a directory");
      }
      current = next;
    }
    return created;
  }

  /**
   * Makes room for a new non-directory at {@code target}: whatever non-directory is there is
   * removed (a symlink itself, never its target); a directory is the build's error, as in fsutil
   * ({@code cannot replace to directory … with file}).
   */
  void clearForFile(Path target) throws IOException, UserError {
    checkParent(target);
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserError("cannot copy a file onto the directory " + inRoot(target));
    }
    Files.deleteIfExists(target);
  }

  /** Removes whatever is at {@code target}, a directory with its contents, without following symlinks. */
  void remove(Path target) throws IOException {
    checkParent(target);
    Trees.deleteRecursively(target);
  }

  /** Writes a new regular file at {@code target} (made free with {@link #clearForFile}); returns the bytes written. */
  long write(Path target, InputStream data) throws IOException {
    checkParent(target);
    // CREATE_NEW + NOFOLLOW_LINKS: never opens an existing file or a symlink's target
    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS)) {
      return data.transferTo(out);
    }
  }

  /** Refuses a target whose parent is not a real directory below the root. */
  void checkParent(Path target) throws IOException {
    Path parent = target.getParent();
    checkedRelative(parent);
    if (!target.normalize().equals(target) || target.equals(root)) {
      throw new IOException("refusing to write " + target + ": not a path below " + root);
    }
    for (Path p = parent; !p.equals(root); p = p.getParent()) {
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("refusing to write " + target + ": " + inRoot(p) + " is not a real directory");
      }
    }
  }

  private Path checkedRelative(Path p) throws IOException {
    if (p == null || !p.normalize().equals(p) || !p.startsWith(root)) {
      throw new IOException("refusing to write " + p + ": not below the rootfs " + root);
    }
    return root.relativize(p);
  }
}
