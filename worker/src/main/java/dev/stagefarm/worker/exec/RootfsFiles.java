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
import dev.stagefarm.oci.layer.Xattrs;
import dev.stagefarm.worker.layers.XattrIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

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
  /**
   * null: {@code root} is a merged rootfs (an overlay mount). Else {@code root} is an op's fresh
   * upper dir and this is it stacked on the stage's lower layers: reads see the merged view,
   * writes land in the upper dir, a directory of a lower layer is copied up (owner, mode, times,
   * xattrs) before something is written into it, as overlayfs does.
   */
  private final LayerStack stack;
  /** xattrs set in the upper dir, by host path: what its snapshot records without reading them back */
  private final Map<Path, SortedMap<String, byte[]>> written = new HashMap<>();

  RootfsFiles(Path root) {
    this.root = root;
    this.stack = null;
  }

  private RootfsFiles(Path upper, LayerStack lowers) {
    this.root = upper;
    this.stack = lowers.on(new LayerStack.Layer(upper, XattrIndex.EMPTY));
  }

  /** Writes into {@code upper} (an empty dir) over {@code lowers}, with no mount. */
  static RootfsFiles layered(Path upper, LayerStack lowers) {
    return new RootfsFiles(upper, lowers);
  }

  Path root() {
    return root;
  }

  /** Whether this writes into an upper dir over lower layers (no merged view on the host). */
  boolean layered() {
    return stack != null;
  }

  /** The xattrs this op set in its upper dir (layered only): the whole of them, since it started empty. */
  XattrIndex writtenXattrs() {
    return XattrIndex.of(root, written);
  }

  /** Records xattrs set on {@code target} (by {@link Xattrs#apply}). */
  void wroteXattrs(List<Xattrs.Assignment> assignments) {
    for (Xattrs.Assignment a : assignments) {
      written.computeIfAbsent(a.path().toAbsolutePath().normalize(), k -> new TreeMap<>()).put(a.name(), a.value());
    }
  }

  private RootfsPaths.Links links() {
    if (stack == null) {
      return RootfsPaths.Links.HOST;
    }
    return stack.links(root);
  }

  private String rel(Path p) {
    return root.relativize(p).toString();
  }

  /** What is at {@code p} (a path below the root) as the container would see it. */
  Optional<LayerStack.Entry> find(Path p) throws IOException {
    if (stack != null) {
      return stack.find(rel(p));
    }
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    return Optional.of(new LayerStack.Entry(p, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
        ? List.of(new LayerStack.Layer(p, XattrIndex.EMPTY)) : List.of()));
  }

  /** Whether something is at {@code p}, not following a symlink there. */
  boolean exists(Path p) throws IOException {
    return find(p).isPresent();
  }

  /** Whether a directory is at {@code p}, not following a symlink there. */
  boolean isDirectory(Path p) throws IOException {
    return find(p).map(LayerStack.Entry::isDirectory).orElse(false);
  }

  /** The image's files for {@link dev.stagefarm.worker.runtime.UserResolver}: /etc/passwd as the container sees it. */
  dev.stagefarm.worker.runtime.UserResolver.ImageFiles imageFiles() {
    return path -> {
      Path resolved = RootfsPaths.resolveLenient(root, path, links());
      return find(resolved).filter(e -> !e.isDirectory()).map(LayerStack.Entry::host);
    };
  }

  /** {@code path} with every symlink followed inside the root (BuildKit's {@code fs.RootPath}). */
  Path resolve(String path) throws IOException, UserError {
    try {
      return RootfsPaths.resolveLenient(root, path, links());
    } catch (FileSystemLoopException e) {
      throw new UserError(path + ": too many levels of symbolic links");
    }
  }

  /** {@code path} with its parent resolved inside the root and its last component not followed. */
  Path resolveParent(String path) throws IOException, UserError {
    try {
      return RootfsPaths.resolveParent(root, path, links());
    } catch (FileSystemLoopException e) {
      throw new UserError(path + ": too many levels of symbolic links");
    }
  }

  /** Creates the directory {@code target} (nothing is there), its parent copied up first. */
  void createDirectory(Path target) throws IOException {
    checkParent(target);
    if (stack != null) {
      Files.deleteIfExists(target); // a whiteout of this op's own: never made by the ops that write in place
    }
    Files.createDirectory(target);
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
      Optional<LayerStack.Entry> found = find(next);
      if (found.isPresent() && Files.isSymbolicLink(found.get().host())) {
        // resolved paths have none; one here would lead anywhere on the host
        throw new IOException("refusing to create " + next + ": " + inRoot(next) + " is a symlink");
      }
      if (found.isEmpty()) {
        createDirectory(next);
        FileAttrs.chown(next, owner.uid(), owner.gid());
        FileAttrs.setMode(next, mode); // after chown, which clears setgid
        created.add(next);
      } else if (!found.get().isDirectory()) {
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
    if (isDirectory(target)) {
      throw new UserError("cannot copy a file onto the directory " + inRoot(target));
    }
    Files.deleteIfExists(target);
  }

  /** Removes whatever is at {@code target}, a directory with its contents, without following symlinks. */
  void remove(Path target) throws IOException {
    if (stack != null) {
      // would need a whiteout; the ops that may remove (ADD unpacking an archive) run on a merged view
      throw new IllegalStateException("removing " + inRoot(target) + " from a layered rootfs");
    }
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

  /**
   * Refuses a target whose parent is not a real directory below the root. Layered, the parent's
   * directories that are only in lower layers are first copied up into the upper dir.
   */
  void checkParent(Path target) throws IOException {
    Path parent = target.getParent();
    checkedRelative(parent);
    if (!target.normalize().equals(target) || target.equals(root)) {
      throw new IOException("refusing to write " + target + ": not a path below " + root);
    }
    if (stack != null) {
      copyUp(parent);
    }
    for (Path p = parent; !p.equals(root); p = p.getParent()) {
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("refusing to write " + target + ": " + inRoot(p) + " is not a real directory");
      }
    }
  }

  /**
   * Makes {@code dir} and the directories above it real directories of the upper dir, each a copy
   * of the merged view's (owner, mode, times, and the xattrs its layer records), as overlayfs'
   * copy-up: what is written into them then merges with the lower layers' contents.
   */
  private void copyUp(Path dir) throws IOException {
    List<Path> chain = new ArrayList<>();
    for (Path p = dir; !p.equals(root); p = p.getParent()) {
      if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        break;
      }
      chain.add(p);
    }
    List<Xattrs.Assignment> attrs = new ArrayList<>();
    Map<Path, Path> lowers = new HashMap<>();
    for (Path p : chain.reversed()) {
      Optional<LayerStack.Entry> e = stack.find(rel(p));
      if (e.isEmpty() || !e.get().isDirectory() || Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("refusing to write below " + inRoot(p) + ": not a real directory");
      }
      Path lower = e.get().host();
      lowers.put(p, lower);
      Files.createDirectory(p);
      FileAttrs.chown(p, FileAttrs.uid(lower), FileAttrs.gid(lower));
      FileAttrs.setMode(p, FileAttrs.mode(lower));
      LayerStack.Layer layer = e.get().dirs().getFirst();
      layer.xattrs().get(layer.dir().relativize(lower).toString()).forEach((name, value) -> {
        if (Xattrs.belongsInLayer(name)) {
          attrs.add(new Xattrs.Assignment(p, name, value));
        }
      });
    }
    if (!attrs.isEmpty()) {
      Xattrs.apply(attrs); // a process, for the rare lower directory with xattrs
      wroteXattrs(attrs);
    }
    // times last, deepest first: making a child directory changed its parent's
    for (Path p : chain) {
      FileAttrs.setTime(p, Files.getLastModifiedTime(lowers.get(p), LinkOption.NOFOLLOW_LINKS));
    }
  }

  private Path checkedRelative(Path p) throws IOException {
    if (p == null || !p.normalize().equals(p) || !p.startsWith(root)) {
      throw new IOException("refusing to write " + p + ": not below the rootfs " + root);
    }
    return root.relativize(p);
  }
}
