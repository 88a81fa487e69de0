package dev.stagefarm.coordinator.compile;

import dev.stagefarm.program.ContextFile;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The build context as its manifest describes it: entries by path, directory listings, and
 * symlinks followed the way BuildKit's {@code fs.RootPath} follows them, inside the context (a
 * link can never lead out of it: {@code ..} stops at the root, an absolute target starts there).
 *
 * <p>The root and any directory the manifest leaves out while listing something under it (a
 * .dockerignore'd directory with exceptions) are directories with mode 0755.
 */
final class ContextTree {
  /** BuildKit's limit on links followed while resolving one path. */
  private static final int MAX_LINKS = 255;

  private final NavigableMap<String, ContextFile> entries = new TreeMap<>();
  private final Map<String, TreeSet<String>> children = new TreeMap<>();

  private ContextTree(List<ContextFile> files) {
    entries.put("", implicitDirectory(""));
    for (ContextFile file : files) {
      entries.put(file.path(), file);
    }
    for (ContextFile file : files) {
      String path = file.path();
      while (!path.isEmpty()) {
        String parent = parent(path);
        entries.putIfAbsent(parent, implicitDirectory(parent));
        children.computeIfAbsent(parent, p -> new TreeSet<>()).add(path);
        path = parent;
      }
    }
  }

  static ContextTree of(ContextManifest manifest) {
    return new ContextTree(manifest.getEntriesList().stream().map(ContextTree::file).toList());
  }

  /** The entry at a clean relative path, not following a symlink there. */
  Optional<ContextFile> entry(String path) {
    return Optional.ofNullable(entries.get(path));
  }

  /**
   * {@code path} with every symlink in it followed, the last component's too: the path of what it
   * names, which may not exist.
   *
   * @throws SymlinkLoopException after {@value #MAX_LINKS} links
   */
  String resolve(String path) {
    Deque<String> todo = new ArrayDeque<>(components(path));
    List<String> done = new ArrayList<>();
    int links = 0;
    while (!todo.isEmpty()) {
      String component = todo.removeFirst();
      if (component.equals("..")) {
        if (!done.isEmpty()) {
          done.removeLast();
        }
        continue;
      }
      done.add(component);
      ContextFile entry = entries.get(String.join("/", done));
      if (entry == null || entry.type() != ContextFile.Type.SYMLINK) {
        continue;
      }
      if (++links > MAX_LINKS) {
        throw new SymlinkLoopException(path);
      }
      done.removeLast();
      if (entry.linkTarget().startsWith("/")) {
        done.clear();
      }
      List<String> target = components(entry.linkTarget());
      for (int i = target.size() - 1; i >= 0; i--) {
        todo.addFirst(target.get(i));
      }
    }
    return String.join("/", done);
  }

  /** The entries directly in a directory, by path in name order. */
  List<ContextFile> list(String directory) {
    return children.getOrDefault(directory, new TreeSet<>()).stream().map(entries::get).toList();
  }

  /**
   * The entry at {@code path} (not following a symlink there) and, for a directory, everything
   * under it, with paths relative to {@code path} ({@code ""} for itself), sorted by path.
   */
  List<ContextFile> subtree(String path) {
    ContextFile root = entries.get(path);
    if (root == null) {
      return List.of();
    }
    List<ContextFile> out = new ArrayList<>();
    out.add(relocate(root, ""));
    if (root.isDirectory()) {
      String prefix = path.isEmpty() ? "" : path + "/";
      for (Map.Entry<String, ContextFile> e : entries.tailMap(prefix, false).entrySet()) {
        if (!e.getKey().startsWith(prefix)) {
          break;
        }
        out.add(relocate(e.getValue(), e.getKey().substring(prefix.length())));
      }
    }
    out.sort((a, b) -> a.path().compareTo(b.path()));
    return List.copyOf(out);
  }

  static ContextFile relocate(ContextFile file, String path) {
    return new ContextFile(path, file.type(), file.mode(), file.digest(), file.size(), file.linkTarget(), file.mtimeMs());
  }

  /** The non-empty components of a '/'-separated path, {@code .} dropped, {@code ..} kept. */
  static List<String> components(String path) {
    List<String> out = new ArrayList<>();
    for (String part : path.split("/")) {
      if (!part.isEmpty() && !part.equals(".")) {
        out.add(part);
      }
    }
    return out;
  }

  static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  static String baseName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static ContextFile implicitDirectory(String path) {
    return new ContextFile(path, ContextFile.Type.DIRECTORY, 0755, "", 0, "", 0);
  }

  private static ContextFile file(ContextEntry entry) {
    String path = entry.getPath();
    if (path.isEmpty() || path.startsWith("/") || !components(path).equals(List.of(path.split("/", -1)))
        || components(path).contains("..")) {
      // the manifest comes from the client: a path that is not clean could alias another entry
      throw new IllegalArgumentException("the build context manifest has an invalid path \"" + path + "\"");
    }
    ContextFile.Type type =
        switch (entry.getType()) {
          case FILE -> ContextFile.Type.FILE;
          case DIRECTORY -> ContextFile.Type.DIRECTORY;
          case SYMLINK -> ContextFile.Type.SYMLINK;
          case UNRECOGNIZED -> throw new IllegalArgumentException(
              "context entry " + entry.getPath() + " has an unknown type");
        };
    return new ContextFile(
        entry.getPath(),
        type,
        entry.getMode() & 07777,
        type == ContextFile.Type.FILE ? entry.getDigest() : "",
        entry.getSize(),
        type == ContextFile.Type.SYMLINK ? entry.getLinkTarget() : "",
        entry.getMtimeMs());
  }

  /** A path whose symlinks lead into each other. */
  static final class SymlinkLoopException extends RuntimeException {
    SymlinkLoopException(String path) {
      super("too many levels of symbolic links resolving \"" + path + "\" in the build context");
    }
  }
}
