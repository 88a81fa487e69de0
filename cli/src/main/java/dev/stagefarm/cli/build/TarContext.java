package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A build context given as a tar archive ({@code stagefarm build - < ctx.tar}, or a {@code .tar}
 * / {@code .tar.gz} path), as {@code docker build} takes one: unpacked into a private directory
 * that is then scanned like any context directory.
 *
 * <p>The archive is untrusted. Every entry lands inside the directory: absolute names and
 * {@code ..} are refused, nothing is written through a symlink the archive made (symlinks are
 * kept as symlinks, never followed), a hard link must name a file extracted before it, devices and
 * FIFOs are refused, and the unpacked size and the number of entries are bounded (a gzip bomb
 * stops at the byte limit).
 */
public final class TarContext {
  /** The largest unpacked context. */
  public static final long MAX_BYTES = 8L << 30;
  /** The most entries. */
  public static final int MAX_ENTRIES = 1_000_000;

  private final long maxBytes;
  private final int maxEntries;

  public TarContext() {
    this(MAX_BYTES, MAX_ENTRIES);
  }

  public TarContext(long maxBytes, int maxEntries) {
    this.maxBytes = maxBytes;
    this.maxEntries = maxEntries;
  }

  /** Whether a CONTEXT argument names an archive rather than a directory. */
  public static boolean isArchivePath(String context) {
    return context.endsWith(".tar") || context.endsWith(".tar.gz") || context.endsWith(".tgz");
  }

  /**
   * Unpacks {@code archive} (plain or gzip-compressed tar) into {@code dir}, which must be empty.
   *
   * @param origin what the archive is, for messages ("standard input", the path)
   */
  public void extract(InputStream archive, Path dir, String origin) throws IOException {
    InputStream in = new BufferedInputStream(archive);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      in = new GZIPInputStream(in, 64 << 10);
    }
    Path root = dir.toRealPath();
    Map<String, Boolean> written = new HashMap<>(); // clean path → is a directory (symlinks: absent, in links)
    Set<String> links = new java.util.HashSet<>();
    long bytes = 0;
    int entries = 0;
    try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        if (++entries > maxEntries) {
          throw refused(origin, "it has more than " + maxEntries + " entries");
        }
        String name = clean(entry.getName(), origin);
        if (name.isEmpty()) {
          continue; // "./": the root itself
        }
        checkParents(name, written, links, origin);
        Path target = root.resolve(name);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !(entry.isDirectory() && Files.isDirectory(target,
            LinkOption.NOFOLLOW_LINKS))) {
          // a later entry of the same name replaces the earlier one (tar semantics), never through a link
          deleteTree(target);
          links.removeIf(p -> p.equals(name) || p.startsWith(name + "/"));
          written.keySet().removeIf(p -> p.equals(name) || p.startsWith(name + "/"));
        }
        Files.createDirectories(target.getParent());
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          written.put(name, true);
        } else if (entry.isSymbolicLink()) {
          // kept as a symlink: the context scanner records its target and never follows it out of the root
          Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
          links.add(name);
        } else if (entry.isLink()) {
          String source = clean(entry.getLinkName(), origin);
          checkParents(source, written, links, origin);
          if (!Boolean.FALSE.equals(written.get(source))) {
            throw refused(origin, "hard link " + name + " names " + entry.getLinkName()
                + ", which is not a file earlier in the archive");
          }
          long size = Files.size(root.resolve(source));
          bytes += size;
          checkBytes(bytes, origin);
          Files.copy(root.resolve(source), target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
          written.put(name, false);
        } else if (entry.isFile()) {
          try (OutputStream out = Files.newOutputStream(target)) {
            byte[] buffer = new byte[64 << 10];
            for (int n; (n = tar.read(buffer)) > 0; ) {
              bytes += n;
              checkBytes(bytes, origin);
              out.write(buffer, 0, n);
            }
          }
          written.put(name, false);
        } else {
          throw refused(origin, name + " is a device, FIFO or other special file");
        }
        if (!entry.isSymbolicLink()) {
          Files.setPosixFilePermissions(target, permissions(entry.getMode() | (entry.isDirectory() ? 0700 : 0600)));
          if (entry.getModTime() != null) {
            Files.setLastModifiedTime(target, java.nio.file.attribute.FileTime.from(entry.getModTime().toInstant()));
          }
        }
      }
    } catch (IOException e) {
      if (e instanceof java.util.zip.ZipException || e.getMessage() != null && e.getMessage().contains("tar")) {
        throw refused(origin, "it is not a tar archive (" + e.getMessage() + ")");
      }
      throw e;
    } catch (IllegalArgumentException e) {
      throw refused(origin, "it is not a valid tar archive (" + e.getMessage() + ")");
    }
    if (entries == 0) {
      throw refused(origin, "it is empty or not a tar archive");
    }
  }

  /** The entry's path, clean and relative ("" for the root); absolute paths and ".." are refused. */
  static String clean(String raw, String origin) {
    String name = raw;
    if (name.startsWith("/") || name.indexOf('\0') >= 0) {
      throw refused(origin, "entry \"" + raw + "\" is not a relative path inside the archive");
    }
    java.util.List<String> parts = new java.util.ArrayList<>();
    for (String part : name.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw refused(origin, "entry \"" + raw + "\" leaves the archive's root (..)");
      }
      parts.add(part);
    }
    return String.join("/", parts);
  }

  /** Nothing is written below a symlink or a file of the archive (that would write outside the root). */
  private static void checkParents(String name, Map<String, Boolean> written, Set<String> links, String origin) {
    for (int slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
      String parent = name.substring(0, slash);
      if (links.contains(parent)) {
        throw refused(origin, "entry " + name + " is below the symlink " + parent);
      }
      if (Boolean.FALSE.equals(written.get(parent))) {
        throw refused(origin, "entry " + name + " is below the file " + parent);
      }
    }
  }

  private void checkBytes(long bytes, String origin) {
    if (bytes > maxBytes) {
      throw refused(origin, "it unpacks to more than " + maxBytes + " bytes, the limit");
    }
  }

  private static UserError refused(String origin, String why) {
    return new UserError("build context " + origin + " refused: " + why);
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = java.util.EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        set.add(order[bit]);
      }
    }
    return set;
  }

  /**
   * The Dockerfile of an unpacked context: {@code name} inside {@code root}, a regular file, not
   * a symlink (the archive's symlink could otherwise name any file of the client's machine).
   */
  public static Path dockerfile(Path root, String name) {
    return dockerfile(root, name, "archive");
  }

  /** As {@link #dockerfile(Path, String)}, for a context of another kind ({@code what}: "archive", "git checkout"). */
  public static Path dockerfile(Path root, String name, String what) {
    Path path = root.resolve(clean(name, what));
    boolean inside;
    try {
      inside = path.toRealPath().startsWith(root.toRealPath());
    } catch (IOException e) {
      inside = false;
    }
    if (!inside || !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserError("the build context " + what + " has no Dockerfile " + name
          + (Files.isSymbolicLink(path) ? " (it is a symlink, which is not followed in an " + what + ")"
              : !inside ? " inside it" : ""));
    }
    return path;
  }

  /** Deletes a path and what is below it without following symlinks. */
  public static void deleteTree(Path path) throws IOException {
    if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      try (var children = Files.list(path)) {
        for (Path child : children.toList()) {
          deleteTree(child);
        }
      }
    }
    Files.deleteIfExists(path);
  }
}
