package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.layer.Xattrs;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.HostProcess;
import dev.stagefarm.worker.runtime.ResolvedUser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Unpacks an ADD archive entry by entry into a directory of the rootfs, as BuildKit does
 * ({@code solver/llbsolver/file/unpack.go}: {@code chrootarchive.Untar} into the destination,
 * which is go-archive's {@code Unpack} chrooted there):
 * <ul>
 *   <li>the destination is the root: names are cleaned, an absolute name lands below it, a name
 *       that climbs above it with {@code ..} is refused, and so are a symlink or hard link whose
 *       target would; symlinks already there are followed with the destination as {@code /};
 *   <li>implied parent directories (no entry of their own) go through symlinks and are made 0755,
 *       owned by root (not {@code --chown});
 *   <li>an entry replaces what is at its path (a symlink itself, never its target) except a
 *       directory entry over a directory, which merges;
 *   <li>owners from the archive unless {@code --chown}; then xattrs (best effort), mode, mtimes;
 *       hard links within the archive stay hard links; fifos and devices are made.
 * </ul>
 * Every write goes through {@link RootfsFiles}: nothing is written through a symlink's last
 * component, and nothing outside the destination.
 */
final class ArchiveUnpacker {
  private final RootfsFiles root;
  private final Optional<ResolvedUser> chown;
  private final Map<Path, FileTime> directoryTimes = new LinkedHashMap<>();
  private final List<Xattrs.Assignment> xattrs = new ArrayList<>();

  ArchiveUnpacker(RootfsFiles root, Optional<ResolvedUser> chown) {
    this.root = root;
    this.chown = chown;
  }

  void unpack(Path archive) throws IOException, UserError {
    String name = archive.getFileName().toString();
    try (InputStream in = Archives.open(archive);
        TarArchiveInputStream tar = new TarArchiveInputStream(in, StandardCharsets.UTF_8.name())) {
      while (true) {
        TarArchiveEntry entry;
        try {
          entry = tar.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
          throw new UserError("ADD " + name + ": the archive is corrupt: " + e.getMessage());
        }
        if (entry == null) {
          break;
        }
        entry(tar, entry, name);
      }
    }
    Xattrs.apply(xattrs); // values set after the owners: chown clears security.capability
    // children before parents: setting a directory's time must come after what is written into it
    List<Path> dirs = new ArrayList<>(directoryTimes.keySet());
    dirs.sort((a, b) -> Integer.compare(b.getNameCount(), a.getNameCount()));
    for (Path dir : dirs) {
      FileAttrs.setTime(dir, directoryTimes.get(dir));
    }
  }

  private void entry(TarArchiveInputStream tar, TarArchiveEntry e, String archive) throws IOException, UserError {
    List<String> parts = components(e.getName(), e.getName(), archive);
    if (parts.isEmpty()) {
      return; // "./": the destination itself
    }
    String logical = String.join("/", parts);
    String parentLogical = String.join("/", parts.subList(0, parts.size() - 1));
    Path parent = root.resolve("/" + parentLogical);
    // go-archive createImpliedDirectories: 0755, the root pair's owner (0:0 here), not --chown
    root.mkdirs(parent, 0755, ResolvedUser.ROOT);
    Path target = parent.resolve(parts.getLast());
    boolean isDirectory = e.isDirectory();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)
        && !(isDirectory && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS))) {
      root.remove(target);
    }
    try {
      create(tar, e, target, logical, archive);
    } catch (UserError | java.nio.file.FileSystemException e2) {
      throw e2 instanceof UserError u ? u
          : new UserError("ADD " + archive + ": cannot unpack " + e.getName() + ": " + e2.getMessage());
    }
  }

  private void create(TarArchiveInputStream tar, TarArchiveEntry e, Path target, String logical, String archive)
      throws IOException, UserError {
    String name = e.getName();
    boolean setMode = true;
    boolean setTime = true;
    if (e.isDirectory()) {
      if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        root.checkParent(target);
        Files.createDirectory(target);
      }
      directoryTimes.put(target, e.getLastModifiedTime());
      setTime = false;
    } else if (e.isSymbolicLink()) {
      // go-archive: the link's target, joined to the link's directory, must stay below the root
      String dir = logical.contains("/") ? logical.substring(0, logical.lastIndexOf('/')) : "";
      if (climbsAbove(dir, e.getLinkName())) {
        throw new UserError("ADD " + archive + ": refusing symlink " + name + " -> " + e.getLinkName()
            + ": it points outside the destination");
      }
      root.checkParent(target);
      Files.createSymbolicLink(target, Path.of(e.getLinkName()));
      setMode = false;
    } else if (e.isLink()) {
      if (climbsAbove("", e.getLinkName())) {
        throw new UserError("ADD " + archive + ": refusing hard link " + name + " -> " + e.getLinkName()
            + ": it points outside the destination");
      }
      List<String> linkParts = components(name, e.getLinkName(), archive);
      if (linkParts.isEmpty()) {
        throw new UserError("ADD " + archive + ": refusing hard link " + name + " to the destination itself");
      }
      Path source = root.resolveParent("/" + String.join("/", linkParts));
      if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
        throw new UserError("ADD " + archive + ": hard link " + name + " -> " + e.getLinkName()
            + ": no such file earlier in the archive");
      }
      root.checkParent(target);
      Files.createLink(target, source);
      boolean toSymlink = Files.isSymbolicLink(source);
      setMode = !toSymlink;
      setTime = !toSymlink;
    } else if (e.isFile()) {
      long written = root.write(target, tar);
      if (written != e.getSize()) {
        throw new UserError("ADD " + archive + ": " + name + " declares " + e.getSize() + " bytes but the archive ends after "
            + written);
      }
    } else if (e.isFIFO() || e.isCharacterDevice() || e.isBlockDevice()) {
      root.checkParent(target);
      List<String> mknod = new ArrayList<>(List.of("mknod", "--", target.toString()));
      if (e.isFIFO()) {
        mknod.add("p");
      } else {
        mknod.addAll(List.of(e.isCharacterDevice() ? "c" : "b", Integer.toString(e.getDevMajor()),
            Integer.toString(e.getDevMinor())));
      }
      HostProcess.run(mknod, null);
      long uid = chown.map(ResolvedUser::uid).orElse(e.getLongUserId());
      long gid = chown.map(ResolvedUser::gid).orElse(e.getLongGroupId());
      // by path with host tools: Java opens a file to set its mode, which blocks on a fifo
      HostProcess.run(List.of("chown", "-h", uid + ":" + gid, "--", target.toString()), null);
      HostProcess.run(List.of("chmod", Integer.toOctalString(e.getMode() & 07777), "--", target.toString()), null);
      return;
    } else {
      throw new UserError("ADD " + archive + ": " + name + " has an unsupported tar entry type '"
          + (char) e.getLinkFlag() + "'");
    }
    FileAttrs.chown(target, chown.map(ResolvedUser::uid).orElse(e.getLongUserId()),
        chown.map(ResolvedUser::gid).orElse(e.getLongGroupId()));
    collectXattrs(e, target);
    if (setMode) {
      FileAttrs.setMode(target, e.getMode() & 07777); // after chown, which clears setuid
    }
    if (setTime) {
      try {
        FileAttrs.setTime(target, e.getLastModifiedTime());
      } catch (IOException symlinkTime) {
        if (!e.isSymbolicLink()) {
          throw symlinkTime;
        }
      }
    }
  }

  /** go-archive BestEffortXattrs; a value commons-compress could not decode exactly is skipped. */
  private void collectXattrs(TarArchiveEntry e, Path target) {
    if (e.isSymbolicLink()) {
      return; // user.* cannot be set on a symlink
    }
    for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
      if (h.getKey().startsWith("SCHILY.xattr.")) {
        String key = h.getKey().substring("SCHILY.xattr.".length());
        if (Xattrs.belongsInLayer(key) && h.getValue().indexOf('\uFFFD') < 0) {
          xattrs.add(new Xattrs.Assignment(target, key, h.getValue().getBytes(StandardCharsets.UTF_8)));
        }
      }
    }
  }

  /**
   * A tar name cleaned as Go's {@code filepath.Clean}, relative to the destination; a leading
   * {@code /} is dropped (the name lands below the destination), a name climbing above it is refused.
   */
  private static List<String> components(String entry, String path, String archive) throws UserError {
    if (path.indexOf('\0') >= 0) {
      throw new UserError("ADD " + archive + ": refusing entry " + entry + ": its name holds a NUL byte");
    }
    List<String> parts = new ArrayList<>();
    boolean absolute = path.startsWith("/");
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (parts.isEmpty()) {
          if (absolute) {
            continue; // "/.." is "/"
          }
          throw new UserError("ADD " + archive + ": refusing entry " + entry + ": it is outside of the destination");
        }
        parts.removeLast();
        continue;
      }
      parts.add(part);
    }
    return parts;
  }

  /** Whether {@code target} joined to {@code dir} (Go's filepath.Join: an absolute target too) climbs above the root. */
  private static boolean climbsAbove(String dir, String target) {
    int depth = dir.isEmpty() ? 0 : dir.split("/").length;
    for (String part : target.split("/")) {
      if (part.equals("..")) {
        if (--depth < 0) {
          return true;
        }
      } else if (!part.isEmpty() && !part.equals(".")) {
        depth++;
      }
    }
    return false;
  }
}
