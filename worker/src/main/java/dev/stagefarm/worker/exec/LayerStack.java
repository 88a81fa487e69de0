package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.layers.XattrIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;

/**
 * A stack of layer directories read as overlayfs would merge them, without mounting them: an
 * entry is the topmost layer's; a whiteout (a 0/0 character device) hides what is below it; a
 * directory merges with the directories below it unless it is opaque ({@code
 * trusted.overlay.opaque=y} in its layer's {@link XattrIndex}) or something that is not a
 * directory comes first; a non-directory hides everything below it. Paths are relative to the
 * stack's root and taken as they are: no symlink is followed here ({@link RootfsFiles} resolves
 * them inside the root).
 */
final class LayerStack {
  /** One layer: its directory and its extended attributes. */
  record Layer(Path dir, XattrIndex xattrs) {}

  /** What is at a path: nothing, a non-directory (in one layer), or a directory (in the layers listed, topmost first). */
  record Entry(Path host, List<Layer> dirs) {
    boolean isDirectory() {
      return !dirs.isEmpty();
    }

    /** The layer holding this entry (the topmost one for a directory). */
    Layer layer(LayerStack stack) {
      return isDirectory() ? dirs.getFirst() : stack.owner(host);
    }
  }

  private final List<Layer> layers; // topmost first

  LayerStack(List<Layer> layers) {
    this.layers = List.copyOf(layers);
  }

  /** This stack with {@code top} on it. */
  LayerStack on(Layer top) {
    List<Layer> all = new ArrayList<>();
    all.add(top);
    all.addAll(layers);
    return new LayerStack(all);
  }

  List<Layer> layers() {
    return layers;
  }

  /** The entry at {@code relative} ("" for the root); empty when nothing is there. */
  Optional<Entry> find(String relative) throws IOException {
    List<Layer> dirs = new ArrayList<>();
    for (Layer layer : layers) {
      dirs.add(layer);
      if (layer.xattrs().opaque("")) {
        break;
      }
    }
    if (dirs.isEmpty()) {
      return Optional.empty();
    }
    String prefix = "";
    for (String name : components(relative)) {
      String rel = prefix.isEmpty() ? name : prefix + "/" + name;
      List<Layer> next = new ArrayList<>();
      Path nonDirectory = null;
      for (Layer layer : dirs) {
        Path p = layer.dir().resolve(rel);
        BasicFileAttributes attrs;
        try {
          attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException missing) {
          continue;
        }
        if (!attrs.isDirectory()) {
          if (next.isEmpty() && !isWhiteout(p, attrs)) {
            nonDirectory = p;
          }
          break; // a whiteout or non-directory hides the layers below
        }
        next.add(layer);
        if (layer.xattrs().opaque(rel)) {
          break;
        }
      }
      if (next.isEmpty()) {
        if (nonDirectory != null && rel.length() == trimmed(relative).length()) {
          return Optional.of(new Entry(nonDirectory, List.of()));
        }
        return Optional.empty();
      }
      dirs = next;
      prefix = rel;
    }
    return Optional.of(new Entry(dirs.getFirst().dir().resolve(prefix.isEmpty() ? "" : prefix), List.copyOf(dirs)));
  }

  /**
   * Symlinks as this stack shows them, for {@link dev.stagefarm.worker.runtime.RootfsPaths}
   * resolving paths below {@code root} (the path the stack's relative paths are taken from).
   */
  dev.stagefarm.worker.runtime.RootfsPaths.Links links(Path root) {
    return candidate -> {
      Optional<Entry> e = find(root.relativize(candidate).toString());
      return e.isPresent() && Files.isSymbolicLink(e.get().host())
          ? Optional.of(Files.readSymbolicLink(e.get().host()).toString()) : Optional.empty();
    };
  }

  /** The names in the merged directory {@code entry}, sorted, whiteouts and what they hide left out. */
  List<String> list(String relative, Entry entry) throws IOException {
    java.util.TreeSet<String> names = new java.util.TreeSet<>();
    for (Layer layer : entry.dirs()) {
      try (var children = Files.list(layer.dir().resolve(relative))) {
        for (Path child : (Iterable<Path>) children::iterator) {
          names.add(child.getFileName().toString());
        }
      }
    }
    List<String> visible = new ArrayList<>();
    for (String name : names) {
      if (find(relative.isEmpty() ? name : relative + "/" + name).isPresent()) {
        visible.add(name);
      }
    }
    return visible;
  }

  /** The extended attributes of a host path inside one of the layers (of the entry itself). */
  SortedMap<String, byte[]> xattrs(Path host) {
    Layer owner = owner(host);
    return owner == null ? java.util.Collections.emptySortedMap()
        : owner.xattrs().get(owner.dir().relativize(host).toString());
  }

  private Layer owner(Path host) {
    for (Layer layer : layers) {
      if (host.startsWith(layer.dir())) {
        return layer;
      }
    }
    return null;
  }

  /** overlayfs' whiteout: a character device numbered 0/0. */
  static boolean isWhiteout(Path p, BasicFileAttributes attrs) throws IOException {
    if (!attrs.isOther()) {
      return false;
    }
    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return (mode & 0170000) == 0020000 && ((Long) Files.getAttribute(p, "unix:rdev", LinkOption.NOFOLLOW_LINKS)) == 0;
  }

  static boolean isWhiteout(Path p) throws IOException {
    return isWhiteout(p, Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
  }

  private static String trimmed(String relative) {
    return String.join("/", components(relative));
  }

  private static List<String> components(String relative) {
    List<String> out = new ArrayList<>();
    for (String part : relative.split("/")) {
      if (!part.isEmpty() && !part.equals(".")) {
        out.add(part);
      }
    }
    return out;
  }
}
