package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.layer.Xattrs;
import dev.stagefarm.program.ExcludePatterns;
import dev.stagefarm.program.SymbolicMode;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.ResolvedUser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SortedMap;
import java.util.stream.Stream;

/**
 * Writes one COPY/ADD's files into the rootfs as BuildKit's copy (fsutil {@code copy.Copy}) does:
 * the owner is {@code --chown}'s when given, else the source's (context and inline files are
 * root's on the worker: 0:0; {@code --from} files keep theirs); the mode is {@code --chmod}'s when
 * given (a symbolic one relative to the source's), else the source's; mtimes are kept; xattrs of
 * {@code --from} sources (file capabilities)
 * are set after the owner, since chown clears {@code security.capability}; files hard-linked to
 * each other in the source stay hard-linked in one copy. Directories it creates on the way to a
 * destination get the {@code --chmod} mode (else 0755) and the {@code --chown} owner (else 0:0);
 * an existing directory keeps its owner and mode. Every write goes through {@link RootfsFiles}.
 * Call {@link #finish()} once the op's sources are copied.
 */
final class TreeCopier {
  private final RootfsFiles rootfs;
  private final Optional<ResolvedUser> chown;
  private final OptionalInt chmod;
  /** a source inode (BasicFileAttributes.fileKey) → its first copy, as fsutil's getLinkSource */
  private final Map<Object, Path> copiedInodes = new HashMap<>();
  private final List<Xattrs.Assignment> xattrs = new ArrayList<>();
  /** hard links made to a first copy (link → first): they share its xattrs */
  private final Map<Path, Path> links = new HashMap<>();

  private final Optional<SymbolicMode> chmodSymbolic;

  TreeCopier(RootfsFiles rootfs, Optional<ResolvedUser> chown, OptionalInt chmod,
      Optional<SymbolicMode> chmodSymbolic) {
    this.rootfs = rootfs;
    this.chown = chown;
    this.chmod = chmod;
    this.chmodSymbolic = chmodSymbolic;
  }

  /** A file made by the op itself (a heredoc, a download): replaces whatever non-directory is at {@code target}. */
  void writeFile(Path target, InputStream data, int defaultMode, Optional<FileTime> mtime)
      throws IOException, UserError {
    mkdirs(target.getParent());
    rootfs.clearForFile(target);
    rootfs.write(target, data);
    ResolvedUser owner = chown.orElse(ResolvedUser.ROOT);
    FileAttrs.chown(target, owner.uid(), owner.gid());
    FileAttrs.setMode(target, chmodOf(defaultMode, false));
    if (mtime.isPresent()) {
      FileAttrs.setTime(target, mtime.get());
    }
  }

  /** Where a copy's source files are: what their extended attributes are, and which entries are not files. */
  interface Source {
    /** The worker's own files (context, downloads): no xattrs. */
    Source PLAIN = new Source() {
      @Override
      public SortedMap<String, byte[]> xattrs(Path host) {
        return java.util.Collections.emptySortedMap();
      }
    };

    SortedMap<String, byte[]> xattrs(Path host);

    /** Whether an entry is layer bookkeeping, not a file (a whiteout in a layer read without a mount). */
    default boolean hidden(Path host) throws IOException {
      return false;
    }

    /** A directory on the host (a mounted view) whose xattrs are read in one walk ({@link dev.stagefarm.worker.runtime.TreeXattrs}). */
    static Source read(Path root) throws IOException {
      Map<Path, SortedMap<String, byte[]>> all = dev.stagefarm.worker.runtime.TreeXattrs.read(root);
      return host -> all.getOrDefault(host.toAbsolutePath(), java.util.Collections.emptySortedMap());
    }

    /** Entries of one layer of {@code stack}: xattrs from its index, whiteouts skipped. */
    static Source layers(LayerStack stack) {
      return new Source() {
        @Override
        public SortedMap<String, byte[]> xattrs(Path host) {
          return stack.xattrs(host);
        }

        @Override
        public boolean hidden(Path host) throws IOException {
          return LayerStack.isWhiteout(host);
        }
      };
    }
  }

  /**
   * Copies a file or symlink to {@code target}, or a directory's contents into {@code target}.
   *
   * @param relative the source's path as {@code excludes} see it ("" for the root of what is copied)
   * @param excludes --exclude, applied below the source (what is copied is never excluded itself)
   * @param sourceXattrs the source's extended attributes ({@link Source#PLAIN} for the worker's own
   *     context files, which have none)
   */
  void copyTree(Path source, Path target, String relative, ExcludePatterns excludes, Source sourceXattrs)
      throws IOException, UserError {
    if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
      if (rootfs.exists(target) && !rootfs.isDirectory(target)) {
        throw new UserError("cannot copy a directory onto the file " + rootfs.inRoot(target));
      }
      mkdirs(target);
      copyChildren(source, target, relative, excludes, sourceXattrs);
      return;
    }
    mkdirs(target.getParent());
    copyEntry(source, target, sourceXattrs);
  }

  private void copyChildren(Path source, Path target, String relative, ExcludePatterns excludes,
      Source sourceXattrs) throws IOException, UserError {
    List<Path> children;
    try (Stream<Path> s = Files.list(source)) {
      children = s.sorted().toList();
    }
    for (Path child : children) {
      String name = child.getFileName().toString();
      String rel = relative.isEmpty() ? name : relative + "/" + name;
      if (excludes.excludes(rel) || sourceXattrs.hidden(child)) {
        continue;
      }
      Path childTarget = target.resolve(name);
      if (!Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
        copyEntry(child, childTarget, sourceXattrs);
        continue;
      }
      // fsutil copyDirectoryOnly: a symlink or file in the way is an error, never followed
      boolean created = false;
      Optional<LayerStack.Entry> there = rootfs.find(childTarget);
      if (there.isEmpty()) {
        rootfs.createDirectory(childTarget);
        created = true;
      } else if (!there.get().isDirectory()) {
        throw new UserError("cannot copy a directory onto the non-directory " + rootfs.inRoot(childTarget));
      }
      copyChildren(child, childTarget, rel, excludes, sourceXattrs);
      if (created) { // an existing directory keeps its owner, mode and time, as in BuildKit
        finish(childTarget, child, sourceXattrs);
      }
    }
  }

  /** A non-directory: replaces what is at {@code target} (a symlink itself, never its target). */
  private void copyEntry(Path source, Path target, Source sourceXattrs)
      throws IOException, UserError {
    rootfs.clearForFile(target);
    BasicFileAttributes attrs = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (attrs.isSymbolicLink()) {
      Files.createSymbolicLink(target, Files.readSymbolicLink(source));
      finish(target, source, sourceXattrs);
      return;
    }
    if (attrs.isRegularFile() && attrs.fileKey() != null && (Integer) Files.getAttribute(source, "unix:nlink",
        LinkOption.NOFOLLOW_LINKS) > 1) {
      Path first = copiedInodes.get(attrs.fileKey());
      if (first != null) {
        Files.createLink(target, first); // shares the first copy's owner, mode and xattrs
        links.put(target, first);
        return;
      }
      copiedInodes.put(attrs.fileKey(), target);
    }
    if (attrs.isRegularFile()) {
      try (InputStream in = Files.newInputStream(source, LinkOption.NOFOLLOW_LINKS)) {
        rootfs.write(target, in);
      }
    } else {
      Files.copy(source, target, LinkOption.NOFOLLOW_LINKS); // a fifo, socket or device: made with mknod
    }
    finish(target, source, sourceXattrs);
  }

  /** Unpacks {@code archive} into the directory {@code dest} (resolved), as BuildKit's ADD does. */
  void unpack(Path archive, Path dest) throws IOException, UserError {
    if (rootfs.layered()) {
      throw new IllegalStateException("ADD unpacks archives on a merged rootfs");
    }
    // BuildKit (solver/llbsolver/file/unpack.go): MkdirAll(dest, 0755, chown) — not --chmod
    rootfs.mkdirs(dest, 0755, chown.orElse(ResolvedUser.ROOT));
    if (!Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserError("cannot unpack " + archive.getFileName() + " onto the file " + rootfs.inRoot(dest));
    }
    new ArchiveUnpacker(new RootfsFiles(dest), chown).unpack(archive);
  }

  /**
   * The mode --chmod gives an entry whose own mode is {@code mode}: the octal mode, or the symbolic
   * one applied relative to it (BuildKit's fsutil copyFileInfo), or {@code mode} itself.
   */
  private int chmodOf(int mode, boolean directory) {
    if (chmod.isPresent()) {
      return chmod.getAsInt();
    }
    return chmodSymbolic.map(symbolic -> symbolic.apply(mode, directory)).orElse(mode);
  }

  /** Creates the missing directories down to {@code dir}: the --chmod mode (else 0755), the --chown owner (else 0:0). */
  void mkdirs(Path dir) throws IOException, UserError {
    // fsutil copy.Copy: MkdirAll(ensureDstPath, perm = Mode when --chmod is set, else 0755)
    rootfs.mkdirs(dir, chmod.orElse(0755), chown.orElse(ResolvedUser.ROOT));
  }

  /** Sets the xattrs collected from --from sources; after every chown of the op, which would clear capabilities. */
  void finish() throws IOException {
    Xattrs.apply(xattrs);
    List<Xattrs.Assignment> shared = new ArrayList<>(xattrs);
    Map<Path, List<Xattrs.Assignment>> byPath = new HashMap<>();
    xattrs.forEach(a -> byPath.computeIfAbsent(a.path(), k -> new ArrayList<>()).add(a));
    links.forEach((link, first) -> { // the snapshot may meet a link before its first copy
      for (Xattrs.Assignment a : byPath.getOrDefault(first, List.of())) {
        shared.add(new Xattrs.Assignment(link, a.name(), a.value()));
      }
    });
    rootfs.wroteXattrs(shared);
    xattrs.clear();
    links.clear();
  }

  /**
   * The copy's owner, mode and mtime from the source unless --chown/--chmod say otherwise, in
   * fsutil's order: chown (which clears setuid and capabilities), chmod, times; xattrs last.
   */
  private void finish(Path target, Path source, Source sourceXattrs) throws IOException {
    if (chown.isPresent()) {
      FileAttrs.chown(target, chown.get().uid(), chown.get().gid());
    } else {
      FileAttrs.chown(target, FileAttrs.uid(source), FileAttrs.gid(source));
    }
    boolean symlink = Files.isSymbolicLink(target);
    if (!symlink) {
      int mode = chmodOf(FileAttrs.mode(source), Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS));
      if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
        FileAttrs.setMode(target, mode);
      } else {
        // chmod(1) works by path: opening a fifo to set its mode would block
        dev.stagefarm.worker.runtime.HostProcess.run(List.of("chmod", Integer.toOctalString(mode), "--", target.toString()),
            null);
      }
    }
    FileTime mtime = Files.getLastModifiedTime(source, LinkOption.NOFOLLOW_LINKS);
    try {
      FileAttrs.setTime(target, mtime);
    } catch (IOException e) {
      if (!symlink) {
        throw e;
      } // a symlink's own time is cosmetic and not settable everywhere
    }
    SortedMap<String, byte[]> own = sourceXattrs.xattrs(source);
    if (!symlink) {
      own.forEach((name, value) -> {
        if (Xattrs.belongsInLayer(name)) {
          xattrs.add(new Xattrs.Assignment(target, name, value));
        }
      });
    }
  }
}
