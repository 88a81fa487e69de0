package dev.stagefarm.worker.exec;

import dev.stagefarm.program.ExcludePatterns;
import dev.stagefarm.program.SymbolicMode;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.HostProcess;
import dev.stagefarm.worker.runtime.ResolvedUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * Writes one COPY/ADD's files into the rootfs: the owner is {@code --chown}'s when given, else the
 * source's (context and inline files are root's on the worker: 0:0; {@code --from} files keep
 * theirs); the mode is {@code --chmod}'s when given (a symbolic one relative to the source's),
 * else the source's; mtimes are kept.
 * Directories it creates on the way to a destination get mode 0755 and the {@code --chown} owner
 * (else 0:0).
 */
final class TreeCopier {
  private final Path rootfs;
  private final Optional<ResolvedUser> chown;
  private final OptionalInt chmod;
  private final Optional<SymbolicMode> chmodSymbolic;

  TreeCopier(Path rootfs, Optional<ResolvedUser> chown, OptionalInt chmod, Optional<SymbolicMode> chmodSymbolic) {
    this.rootfs = rootfs;
    this.chown = chown;
    this.chmod = chmod;
    this.chmodSymbolic = chmodSymbolic;
  }

  /** A file made by the op itself (a heredoc, a download). */
  void writeFile(Path target, byte[] data, int defaultMode, Optional<FileTime> mtime) throws IOException, UserError {
    mkdirs(target.getParent());
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserError("cannot copy a file onto the directory /" + rootfs.relativize(target));
    }
    Files.deleteIfExists(target);
    Files.write(target, data);
    ResolvedUser owner = chown.orElse(ResolvedUser.ROOT);
    FileAttrs.chown(target, owner.uid(), owner.gid());
    FileAttrs.setMode(target, chmodOf(defaultMode, false));
    if (mtime.isPresent()) {
      Files.setLastModifiedTime(target, mtime.get());
    }
  }

  /**
   * Copies a file or symlink to {@code target}, or a directory's contents into {@code target}.
   *
   * @param relative the source's path as {@code excludes} see it ("" for the root of what is copied)
   * @param excludes --exclude, applied below the source (what is copied is never excluded itself)
   */
  void copyTree(Path source, Path target, String relative, ExcludePatterns excludes) throws IOException, UserError {
    if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
      mkdirs(target);
      if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
        throw new UserError("cannot copy a directory onto the file /" + rootfs.relativize(target));
      }
      List<Path> children;
      try (Stream<Path> s = Files.list(source)) {
        children = s.sorted().toList();
      }
      for (Path child : children) {
        String name = child.getFileName().toString();
        String rel = relative.isEmpty() ? name : relative + "/" + name;
        if (excludes.excludes(rel)) {
          continue;
        }
        Path childTarget = target.resolve(name);
        if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
          if (!Files.exists(childTarget, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(childTarget);
          }
          copyTree(child, childTarget, rel, excludes);
          finish(childTarget, child, true);
        } else {
          copyTree(child, childTarget, rel, excludes);
        }
      }
      return;
    }
    mkdirs(target.getParent());
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserError("cannot copy a file onto the directory /" + rootfs.relativize(target));
    }
    Files.deleteIfExists(target);
    if (Files.isSymbolicLink(source)) {
      Files.createSymbolicLink(target, Files.readSymbolicLink(source));
      finish(target, source, false);
      return;
    }
    Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
    finish(target, source, true);
  }

  /**
   * Unpacks an archive into {@code dest} as BuildKit's ADD does: entries keep the archive's modes
   * and mtimes, and its owners unless {@code --chown} was given (then every entry gets that owner);
   * {@code --chmod} and {@code --exclude} do not reach inside the archive. The archive is unpacked
   * into {@code staging} first so that only its own entries are re-owned, never files already in
   * {@code dest}.
   */
  void unpack(Path archive, Path dest, Path staging) throws IOException, UserError {
    mkdirs(dest);
    Archives.extract(archive, staging);
    List<String> entries = new ArrayList<>();
    try (Stream<Path> s = Files.list(staging)) {
      s.sorted().forEach(p -> entries.add(p.toString()));
    }
    if (entries.isEmpty()) {
      return;
    }
    if (chown.isPresent()) {
      try (Stream<Path> all = Files.walk(staging)) {
        for (Path p : all.filter(p -> !p.equals(staging)).toList()) {
          FileAttrs.chown(p, chown.get().uid(), chown.get().gid());
        }
      }
    }
    // cp -a merges into existing directories and keeps owners, modes, mtimes, xattrs and hard links
    List<String> cp = new ArrayList<>(List.of("cp", "-a", "--"));
    cp.addAll(entries);
    cp.add(dest + "/");
    HostProcess.run(cp, null);
  }

  /** Creates the missing directories down to {@code dir}, never above the rootfs. */
  void mkdirs(Path dir) throws IOException, UserError {
    List<Path> created = new ArrayList<>();
    for (Path p = dir; p != null && p.startsWith(rootfs) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS);
        p = p.getParent()) {
      created.addFirst(p);
    }
    if (!created.isEmpty() && !Files.isDirectory(created.getFirst().getParent())) {
      throw new UserError("cannot create directory /" + rootfs.relativize(created.getFirst()) + ": /"
          + rootfs.relativize(created.getFirst().getParent()) + " is a file");
    }
    ResolvedUser owner = chown.orElse(ResolvedUser.ROOT);
    for (Path p : created) {
      Files.createDirectory(p);
      FileAttrs.setMode(p, 0755);
      FileAttrs.chown(p, owner.uid(), owner.gid());
    }
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

  /** The copy's owner, mode and mtime, from the source unless --chown/--chmod say otherwise. */
  private void finish(Path target, Path source, boolean setMode) throws IOException {
    if (chown.isPresent()) {
      FileAttrs.chown(target, chown.get().uid(), chown.get().gid());
    } else {
      FileAttrs.chown(target, FileAttrs.uid(source), FileAttrs.gid(source));
    }
    if (setMode) {
      FileAttrs.setMode(target, chmodOf(FileAttrs.mode(source), Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)));
      Files.setLastModifiedTime(target, Files.getLastModifiedTime(source, LinkOption.NOFOLLOW_LINKS));
    }
  }
}
