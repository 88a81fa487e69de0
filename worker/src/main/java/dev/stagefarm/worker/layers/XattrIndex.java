package dev.stagefarm.worker.layers;

import dev.stagefarm.oci.layer.Xattrs;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The extended attributes of one layer directory, by path relative to it ("" is the directory
 * itself), overlayfs' own ({@code trusted.overlay.opaque}) included. Kept beside each layer of the
 * unpacked-layer store and handed from an op's snapshot to the next op, so that reading a layer
 * stack without a mount (whiteouts, opaque dirs) and copying from it (file capabilities) reads no
 * xattr again.
 */
public final class XattrIndex {
  public static final XattrIndex EMPTY = new XattrIndex(Map.of());
  /** a sidecar holding more is not one we wrote (a layer's xattrs are already bounded by its extraction) */
  private static final int MAX_ENTRIES = 1 << 20;

  private final Map<String, SortedMap<String, byte[]>> byPath;

  private XattrIndex(Map<String, SortedMap<String, byte[]>> byPath) {
    this.byPath = byPath;
  }

  /** From {@link Xattrs#readTree}'s map (absolute paths) of the tree at {@code root}. */
  public static XattrIndex of(Path root, Map<Path, SortedMap<String, byte[]>> absolute) {
    if (absolute.isEmpty()) {
      return EMPTY;
    }
    Path base = root.toAbsolutePath().normalize();
    Map<String, SortedMap<String, byte[]>> byPath = new HashMap<>();
    absolute.forEach((path, attrs) -> {
      Path p = path.toAbsolutePath().normalize();
      if (p.startsWith(base) && !attrs.isEmpty()) {
        byPath.put(base.relativize(p).toString(), Collections.unmodifiableSortedMap(new TreeMap<>(attrs)));
      }
    });
    return new XattrIndex(Map.copyOf(byPath));
  }

  /** Reads the xattrs of the tree at {@code root} (system calls; a {@code getfattr} process only without JNA). */
  public static XattrIndex read(Path root) throws IOException {
    return of(root, dev.stagefarm.worker.runtime.TreeXattrs.read(root));
  }

  /** The xattrs of {@code relative} (empty when it has none). */
  public SortedMap<String, byte[]> get(String relative) {
    return byPath.getOrDefault(relative, Collections.emptySortedMap());
  }

  /** Whether {@code relative} is an opaque directory (overlayfs hides the layers below it). */
  public boolean opaque(String relative) {
    byte[] v = get(relative).get(Xattrs.OVERLAY_OPAQUE);
    return v != null && v.length == 1 && v[0] == 'y';
  }

  /** This index without the entries of {@code relatives} (paths removed from the tree since it was read). */
  public XattrIndex without(java.util.Collection<String> relatives) {
    if (relatives.stream().noneMatch(byPath::containsKey)) {
      return this;
    }
    Map<String, SortedMap<String, byte[]>> kept = new HashMap<>(byPath);
    relatives.forEach(kept::remove);
    return kept.isEmpty() ? EMPTY : new XattrIndex(Map.copyOf(kept));
  }

  public boolean isEmpty() {
    return byPath.isEmpty();
  }

  /** The index as {@link dev.stagefarm.oci.layer.LayerWriter} takes it: by absolute path below {@code root}. */
  public Map<Path, SortedMap<String, byte[]>> absolute(Path root) {
    Path base = root.toAbsolutePath().normalize();
    Map<Path, SortedMap<String, byte[]>> out = new HashMap<>();
    byPath.forEach((rel, attrs) -> out.put(rel.isEmpty() ? base : base.resolve(rel), attrs));
    return out;
  }

  void write(Path file) throws IOException {
    try (OutputStream os = Files.newOutputStream(file); DataOutputStream out = new DataOutputStream(
        new java.io.BufferedOutputStream(os))) {
      out.writeInt(byPath.size());
      for (var e : byPath.entrySet()) {
        bytes(out, e.getKey().getBytes(StandardCharsets.UTF_8));
        out.writeInt(e.getValue().size());
        for (var a : e.getValue().entrySet()) {
          bytes(out, a.getKey().getBytes(StandardCharsets.UTF_8));
          bytes(out, a.getValue());
        }
      }
    }
  }

  static XattrIndex load(Path file) throws IOException {
    try (InputStream is = Files.newInputStream(file); DataInputStream in = new DataInputStream(
        new java.io.BufferedInputStream(is))) {
      int n = count(in.readInt());
      Map<String, SortedMap<String, byte[]>> byPath = new HashMap<>();
      for (int i = 0; i < n; i++) {
        String rel = new String(bytes(in), StandardCharsets.UTF_8);
        int m = count(in.readInt());
        SortedMap<String, byte[]> attrs = new TreeMap<>();
        for (int j = 0; j < m; j++) {
          attrs.put(new String(bytes(in), StandardCharsets.UTF_8), bytes(in));
        }
        byPath.put(rel, Collections.unmodifiableSortedMap(attrs));
      }
      return n == 0 ? EMPTY : new XattrIndex(Map.copyOf(byPath));
    }
  }

  private static int count(int n) throws IOException {
    if (n < 0 || n > MAX_ENTRIES) {
      throw new IOException("not an xattr index: a count of " + n);
    }
    return n;
  }

  private static void bytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] bytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 1 << 20) { // the kernel caps an xattr value at 64 KiB
      throw new IOException("not an xattr index: a length of " + n);
    }
    return in.readNBytes(n);
  }
}
