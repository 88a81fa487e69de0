package dev.stagefarm.worker.layers;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.layer.LayerExtractor;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracted layers on local disk, ready to be overlayfs lower dirs, keyed by diff_id. Each layer is
 * extracted once (concurrent stages wanting the same layer wait for one extraction), kept while
 * any stage uses it, and evicted least-recently-used first when the cache grows past its bound.
 * Survives worker restarts: the directory names are the diff_ids.
 */
public final class LayerCache {
  private static final Logger log = LoggerFactory.getLogger(LayerCache.class);

  private final Path root;
  private final long maxBytes;
  private final ContentStore store;
  /** diff_id hex → entry, in access order (LRU first). Guarded by {@code this}. */
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<String, Object> extractionLocks = new ConcurrentHashMap<>();
  private long totalBytes;

  private static final class Entry {
    final Path dir;
    final long bytes;
    int users;

    Entry(Path dir, long bytes) {
      this.dir = dir;
      this.bytes = bytes;
    }
  }

  public LayerCache(Path root, long maxBytes, ContentStore store) throws IOException {
    this.root = root;
    this.maxBytes = maxBytes;
    this.store = store;
    Files.createDirectories(root);
    loadExisting();
  }

  /** A layer held for use; closing it lets the cache evict the layer again. */
  public final class Lease implements AutoCloseable {
    private final String key;
    private final Path dir;
    private boolean closed;

    private Lease(String key, Path dir) {
      this.key = key;
      this.dir = dir;
    }

    public Path dir() {
      return dir;
    }

    @Override
    public void close() {
      synchronized (LayerCache.this) {
        if (!closed) {
          closed = true;
          Entry e = entries.get(key);
          if (e != null) {
            e.users--;
          }
          evict();
        }
      }
    }
  }

  /**
   * The extracted layer {@code diffId}, extracting blob {@code blob} from the store when missing.
   *
   * @throws IOException when the blob is missing, corrupt, or not the diff_id it claims to be
   */
  public Lease acquire(Digest diffId, Digest blob) throws IOException {
    String key = diffId.hex();
    Lease lease = tryLease(key);
    if (lease != null) {
      return lease;
    }
    synchronized (extractionLocks.computeIfAbsent(key, k -> new Object())) {
      lease = tryLease(key);
      if (lease != null) {
        return lease;
      }
      Path tmp = Files.createTempDirectory(root, ".extract-");
      try {
        LayerExtractor.Result result;
        try (InputStream in = store.openBlob(blob)) {
          result = new LayerExtractor(LayerExtractor.Mode.OVERLAY_LOWER).extract(in, tmp);
        }
        if (!result.diffId().equals(diffId)) {
          throw new IOException("layer blob " + blob + " has diff_id " + result.diffId() + ", expected " + diffId);
        }
        Path dir = root.resolve(key);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        return register(key, dir, result.uncompressedSize());
      } finally {
        if (Files.exists(tmp)) {
          Trees.deleteRecursively(tmp);
        }
      }
    }
  }

  /**
   * Adopts a directory that already is the overlay form of layer {@code diffId} (the upper dir a
   * stage produced it from), so a later stage on this worker does not extract it again.
   * The directory is moved; when the cache already has the layer it is deleted instead.
   */
  public void adopt(Digest diffId, Path dir, long bytes) throws IOException {
    String key = diffId.hex();
    synchronized (extractionLocks.computeIfAbsent(key, k -> new Object())) {
      synchronized (this) {
        if (entries.containsKey(key)) {
          Trees.deleteRecursively(dir);
          return;
        }
      }
      Path target = root.resolve(key);
      Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
      register(key, target, bytes).close();
    }
  }

  public synchronized long sizeBytes() {
    return totalBytes;
  }

  private synchronized Lease tryLease(String key) {
    Entry e = entries.get(key);
    if (e == null) {
      return null;
    }
    e.users++;
    return new Lease(key, e.dir);
  }

  private synchronized Lease register(String key, Path dir, long bytes) {
    Entry e = new Entry(dir, bytes);
    e.users = 1;
    entries.put(key, e);
    totalBytes += bytes;
    evict();
    return new Lease(key, dir);
  }

  /** Drops unused layers, least recently used first, until the cache fits. */
  private synchronized void evict() {
    var it = entries.entrySet().iterator();
    while (totalBytes > maxBytes && it.hasNext()) {
      var next = it.next();
      Entry e = next.getValue();
      if (e.users > 0) {
        continue;
      }
      it.remove();
      totalBytes -= e.bytes;
      try {
        Trees.deleteRecursively(e.dir);
      } catch (IOException ex) {
        log.warn("evicting layer {} failed: {}", next.getKey(), ex.toString());
      }
    }
  }

  private void loadExisting() throws IOException {
    Map<String, Long> found = new HashMap<>();
    try (var dirs = Files.list(root)) {
      for (Path dir : dirs.toList()) {
        String name = dir.getFileName().toString();
        if (name.startsWith(".")) {
          Trees.deleteRecursively(dir); // an extraction a killed worker left half done
        } else if (name.matches("[0-9a-f]{64}")) {
          found.put(name, Trees.sizeOf(dir));
        }
      }
    }
    synchronized (this) {
      found.forEach((key, bytes) -> {
        entries.put(key, new Entry(root.resolve(key), bytes));
        totalBytes += bytes;
      });
      evict();
    }
  }
}
