package dev.stagefarm.worker;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A build context in a test: files (0644) and their directories (0755), contents uploaded to a
 * content store; {@link #select} makes the {@link ContextSelection}s the coordinator would send.
 */
public final class TestContext {
  private static final long MTIME = 1_000_000;
  private final TreeMap<String, ContextFile> entries = new TreeMap<>();

  /** @param upload stores a file's contents in the store's context namespace, returns its digest */
  public TestContext(Map<String, byte[]> files, Function<byte[], Digest> upload) {
    for (Map.Entry<String, byte[]> f : new TreeMap<>(files).entrySet()) {
      String[] parts = f.getKey().split("/");
      StringBuilder dir = new StringBuilder();
      for (int i = 0; i < parts.length - 1; i++) {
        dir.append(i == 0 ? "" : "/").append(parts[i]);
        entries.putIfAbsent(dir.toString(),
            new ContextFile(dir.toString(), ContextFile.Type.DIRECTORY, 0755, "", 0, "", MTIME));
      }
      byte[] content = f.getValue();
      entries.put(f.getKey(), new ContextFile(f.getKey(), ContextFile.Type.FILE, 0644,
          upload.apply(content).toString(), content.length, "", MTIME));
    }
  }

  public static Map<String, byte[]> utf8(Map<String, String> files) {
    Map<String, byte[]> bytes = new TreeMap<>();
    files.forEach((k, v) -> bytes.put(k, v.getBytes(StandardCharsets.UTF_8)));
    return bytes;
  }

  /** Adds a symlink entry (for hostile-input tests). */
  public TestContext symlink(String path, String target) {
    entries.put(path, new ContextFile(path, ContextFile.Type.SYMLINK, 0777, "", 0, target, MTIME));
    return this;
  }

  /** The match {@code path} ("" = the root): a file lands as its base name, a directory's contents are copied. */
  public ContextSelection select(String path) {
    boolean dir = path.isEmpty() || entries.get(path).isDirectory();
    return select(path, dir ? "" : path.substring(path.lastIndexOf('/') + 1));
  }

  /** The match {@code path} landing at {@code placeAt} under a directory destination (--parents). */
  public ContextSelection select(String path, String placeAt) {
    List<ContextFile> under = new ArrayList<>();
    if (path.isEmpty()) {
      under.add(new ContextFile("", ContextFile.Type.DIRECTORY, 0755, "", 0, "", MTIME));
    }
    for (ContextFile e : entries.values()) {
      String rel;
      if (path.isEmpty()) {
        rel = e.path();
      } else if (e.path().equals(path)) {
        rel = "";
      } else if (e.path().startsWith(path + "/")) {
        rel = e.path().substring(path.length() + 1);
      } else {
        continue;
      }
      under.add(new ContextFile(rel, e.type(), e.mode(), e.digest(), e.size(), e.linkTarget(), e.mtimeMs()));
    }
    if (under.isEmpty()) {
      throw new IllegalArgumentException("no context entry " + path);
    }
    under.sort(java.util.Comparator.comparing(ContextFile::path));
    return new ContextSelection(path, placeAt, under);
  }
}
