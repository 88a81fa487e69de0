package dev.stagefarm.worker.runtime;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import dev.stagefarm.oci.layer.Xattrs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Every extended attribute of every entry of a tree, in all namespaces (overlayfs' {@code trusted.overlay.*},
 * {@code security.capability}), read with llistxattr(2)/lgetxattr(2) from the worker's own process: what
 * {@link Xattrs#readTree} reads with a {@code getfattr -R} process, which is the way here only where JNA
 * cannot load. Symlinks are not followed; an entry that has none is not in the map.
 */
public final class TreeXattrs {
  /** XATTR_LIST_MAX and XATTR_SIZE_MAX: the kernel returns no longer list or value. */
  private static final int MAX = 64 * 1024;

  private TreeXattrs() {}

  /** Keyed by absolute path (the tree's root included), as {@link Xattrs#readTree} keys them. */
  public static Map<Path, SortedMap<String, byte[]>> read(Path root) throws IOException {
    Libc.Calls libc = Libc.LOADED.calls();
    if (libc == null) {
      return Xattrs.readTree(root);
    }
    Map<Path, SortedMap<String, byte[]>> result = new HashMap<>();
    try (Memory names = new Memory(MAX); Memory value = new Memory(MAX)) {
      Files.walkFileTree(root.toAbsolutePath(), new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
          readOne(libc, dir, names, value, result);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          readOne(libc, file, names, value, result);
          return FileVisitResult.CONTINUE;
        }
      });
    }
    return result;
  }

  private static void readOne(Libc.Calls libc, Path path, Memory names, Memory value,
      Map<Path, SortedMap<String, byte[]>> result) throws IOException {
    byte[] cPath = Libc.c(path.toString());
    int listLength;
    try {
      listLength = libc.llistxattr(cPath, names, new NativeLong(MAX)).intValue();
    } catch (LastErrorException e) {
      if (e.getErrorCode() == Libc.ENOTSUP) {
        return; // a file system without xattrs
      }
      throw new IOException("cannot list the extended attributes of " + path + ": "
          + Libc.describe(libc, e.getErrorCode()));
    }
    if (listLength <= 0) {
      return;
    }
    byte[] list = names.getByteArray(0, listLength);
    SortedMap<String, byte[]> attrs = new TreeMap<>();
    int start = 0;
    for (int i = 0; i < listLength; i++) {
      if (list[i] != 0) {
        continue;
      }
      if (i > start) {
        byte[] cName = new byte[i - start + 1];
        System.arraycopy(list, start, cName, 0, i - start);
        try {
          int length = libc.lgetxattr(cPath, cName, value, new NativeLong(MAX)).intValue();
          attrs.put(new String(list, start, i - start, StandardCharsets.UTF_8), value.getByteArray(0, length));
        } catch (LastErrorException e) {
          if (e.getErrorCode() != Libc.ENODATA) { // ENODATA: removed since the list was read
            throw new IOException("cannot read the extended attribute " + new String(list, start, i - start,
                StandardCharsets.UTF_8) + " of " + path + ": " + Libc.describe(libc, e.getErrorCode()));
          }
        }
      }
      start = i + 1;
    }
    if (!attrs.isEmpty()) {
      result.put(path, attrs);
    }
  }
}
