package dev.stagefarm.worker.layers;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.layer.LayerExtractor;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracted layers on local disk, ready to be overlayfs lower dirs, keyed by diff_id: the host's
 * unpacked-layer store. Every worker of this process that names the same directory shares one
 * store (one extraction per layer for all of them, one size bound, one LRU); each worker reads
 * missing blobs through its own content store. Each layer is extracted once (concurrent stages
 * wanting it wait for that one extraction, under a lock per digest), verified against its diff_id
 * before it is published by an atomic rename, kept while any stage uses it, and evicted least
 * recently used first when the store grows past its bound.
 *
 * <p>Survives restarts: the directory names are the diff_ids, and a sidecar {@code <diff_id>.ok}
 * records each published entry's file count and bytes. At start an entry without its record
 * (published by a process killed before it wrote one) or whose tree no longer matches it
 * (truncated, files lost) is deleted, so it is extracted again when next needed. A second sidecar
 * {@code <diff_id>.xattrs} holds the layer's {@link XattrIndex} (written before the record), so a
 * stage reads whiteouts, opaque dirs and file capabilities of a stored layer without a process.
 */
public final class LayerCache implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LayerCache.class);
  private static final String RECORD = ".ok";
  private static final String XATTRS = ".xattrs";

  /** The stores of this process by directory, with how many workers hold each. Guarded by itself. */
  private static final Map<Path, Shared> OPEN = new HashMap<>();

  private final Shared shared;
  private final ContentStore store;
  private boolean closed;

  /**
   * Opens the store at {@code root} for one worker, sharing it with every other worker of this
   * process that opened the same directory (the first one's {@code maxBytes} is the bound).
   *
   * @param store where this worker reads blobs the store does not hold yet
   */
  public LayerCache(Path root, long maxBytes, ContentStore store) throws IOException {
    Path key = root.toAbsolutePath().normalize();
    synchronized (OPEN) {
      Shared existing = OPEN.get(key);
      if (existing == null) {
        existing = new Shared(key, maxBytes);
        OPEN.put(key, existing);
      }
      existing.handles++;
      this.shared = existing;
    }
    this.store = store;
  }

  /** Lets go of the shared store; the last worker to close it forgets it (its directory stays). */
  @Override
  public void close() {
    synchronized (OPEN) {
      if (!closed) {
        closed = true;
        if (--shared.handles == 0) {
          OPEN.remove(shared.root);
        }
      }
    }
  }

  /** A layer held for use; closing it lets the store evict the layer again. */
  public final class Lease implements AutoCloseable {
    private final String key;
    private final Path dir;
    private boolean released;

    private Lease(String key, Path dir) {
      this.key = key;
      this.dir = dir;
    }

    public Path dir() {
      return dir;
    }

    /** The layer's extended attributes (its sidecar, read once per process). */
    public XattrIndex xattrs() throws IOException {
      Entry e;
      synchronized (shared) {
        e = shared.entries.get(key);
      }
      if (e == null) {
        return XattrIndex.load(shared.root.resolve(key + XATTRS)); // evicted while leased: cannot happen, but exact
      }
      synchronized (e) {
        if (e.xattrs == null) {
          e.xattrs = XattrIndex.load(shared.root.resolve(key + XATTRS));
        }
        return e.xattrs;
      }
    }

    @Override
    public void close() {
      synchronized (shared) {
        if (!released) {
          released = true;
          Entry e = shared.entries.get(key);
          if (e != null) {
            e.users--;
          }
          shared.evict();
        }
      }
    }
  }

  /**
   * The extracted layer {@code diffId}, extracting blob {@code blob} from this worker's content
   * store when the host's store does not hold it.
   *
   * @throws IOException when the blob is missing, corrupt, or not the diff_id it claims to be
   *     (nothing is published then)
   */
  public Lease acquire(Digest diffId, Digest blob) throws IOException {
    String key = diffId.hex();
    while (true) {
      Lease lease = tryLease(key);
      if (lease != null) {
        return lease;
      }
      // the stages wanting a layer another stage is extracting wait for that extraction together and take their
      // leases side by side: queued on the digest's lock instead, each got it in turn, every hand-over waiting for
      // a core (a cold one-shot of 32 stages on 2 cores: the last stage's base 0.6-1.1 s after the first's)
      CompletableFuture<Void> extraction = new CompletableFuture<>();
      CompletableFuture<Void> running;
      synchronized (shared) {
        running = shared.extractions.putIfAbsent(key, extraction);
      }
      if (running != null) {
        awaitExtraction(running, diffId);
        continue; // extracted (or failed: then this stage tries itself)
      }
      try {
        return extract(key, diffId, blob);
      } finally {
        synchronized (shared) {
          shared.extractions.remove(key, extraction);
        }
        extraction.complete(null);
      }
    }
  }

  private static void awaitExtraction(CompletableFuture<Void> extraction, Digest diffId) throws IOException {
    try {
      extraction.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while layer " + diffId + " was being extracted");
    } catch (java.util.concurrent.ExecutionException e) {
      // never completed exceptionally; the extractor's own failure is its stage's
    }
  }

  /** Extracts and publishes layer {@code key} (this thread's extraction of it, under its lock against adopt). */
  private Lease extract(String key, Digest diffId, Digest blob) throws IOException {
    synchronized (shared.lock(key)) {
      Lease lease = tryLease(key);
      if (lease != null) {
        return lease;
      }
      long start = System.nanoTime();
      Path tmp = Files.createTempDirectory(shared.root, ".extract-");
      try {
        LayerExtractor.Result result;
        try (InputStream in = store.openBlob(blob)) {
          result = new LayerExtractor(LayerExtractor.Mode.OVERLAY_LOWER).extract(in, tmp);
        }
        if (!result.diffId().equals(diffId)) {
          throw new IOException("layer blob " + blob + " has diff_id " + result.diffId() + ", expected " + diffId);
        }
        // its xattrs read once per layer and host, so that no stage reading the layer reads them
        Lease published = publish(key, tmp, XattrIndex.read(tmp));
        log.debug("extracted layer {} in {} ms", diffId, (System.nanoTime() - start) / 1_000_000);
        return published;
      } finally {
        if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
          Trees.deleteRecursively(tmp);
        }
      }
    }
  }

  /**
   * Adopts a directory that already is the overlay form of layer {@code diffId} (the upper dir a
   * stage produced it from), so a later stage on this host does not extract it again.
   * The directory is moved; when the store already has the layer it is deleted instead.
   */
  public void adopt(Digest diffId, Path dir) throws IOException {
    adopt(diffId, dir, XattrIndex.read(dir));
  }

  /** {@link #adopt(Digest, Path)} with the directory's extended attributes already known. */
  public void adopt(Digest diffId, Path dir, XattrIndex xattrs) throws IOException {
    String key = diffId.hex();
    synchronized (shared.lock(key)) {
      synchronized (shared) {
        if (shared.entries.containsKey(key)) {
          Trees.deleteRecursively(dir);
          return;
        }
      }
      publish(key, dir, xattrs).close();
    }
  }

  public long sizeBytes() {
    synchronized (shared) {
      return shared.totalBytes;
    }
  }

  /** Moves a complete tree into place under its diff_id, then records what it holds. Held: the digest's lock. */
  private Lease publish(String key, Path tree, XattrIndex xattrs) throws IOException {
    Tally tally = Tally.of(tree);
    Path dir = shared.root.resolve(key);
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      Trees.deleteRecursively(dir); // an unrecorded leftover: never trusted
    }
    Files.move(tree, dir, StandardCopyOption.ATOMIC_MOVE);
    Path tmpXattrs = shared.root.resolve("." + key + XATTRS);
    xattrs.write(tmpXattrs);
    Files.move(tmpXattrs, shared.root.resolve(key + XATTRS), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    Path record = shared.root.resolve(key + RECORD);
    Path tmpRecord = shared.root.resolve("." + key + RECORD);
    Files.writeString(tmpRecord, tally.toString(), StandardCharsets.US_ASCII);
    Files.move(tmpRecord, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    synchronized (shared) {
      Entry e = new Entry(dir, tally.bytes());
      e.users = 1;
      e.xattrs = xattrs;
      shared.entries.put(key, e);
      shared.totalBytes += tally.bytes();
      shared.evict();
    }
    return new Lease(key, dir);
  }

  private Lease tryLease(String key) {
    synchronized (shared) {
      Entry e = shared.entries.get(key);
      if (e == null) {
        return null;
      }
      e.users++;
      return new Lease(key, e.dir);
    }
  }

  private static final class Entry {
    final Path dir;
    final long bytes;
    int users;
    XattrIndex xattrs; // null until read from its sidecar; guarded by the entry

    Entry(Path dir, long bytes) {
      this.dir = dir;
      this.bytes = bytes;
    }
  }

  /** Regular files and their bytes in a tree: what an entry's record holds. */
  record Tally(long files, long bytes) {
    static Tally of(Path dir) throws IOException {
      long[] t = new long[2];
      Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
          if (attrs.isRegularFile()) {
            t[0]++;
            t[1] += attrs.size();
          }
          return java.nio.file.FileVisitResult.CONTINUE;
        }
      });
      return new Tally(t[0], t[1]);
    }

    static Tally parse(String text) {
      String[] parts = text.trim().split(" ");
      if (parts.length != 2) {
        throw new IllegalArgumentException("not a layer record: " + text);
      }
      return new Tally(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    }

    @Override
    public String toString() {
      return files + " " + bytes + "\n";
    }
  }

  /** One directory's store, shared by the workers of this process that use it. */
  private static final class Shared {
    final Path root;
    final long maxBytes;
    /** diff_id hex → entry, in access order (LRU first). Guarded by {@code this}. */
    final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    final Map<String, Object> locks = new ConcurrentHashMap<>();
    /** diff_id hex → the extraction of it under way (its stage's thread), for the others to wait on. Guarded by this. */
    final Map<String, CompletableFuture<Void>> extractions = new HashMap<>();
    long totalBytes;
    int handles; // guarded by OPEN

    Shared(Path root, long maxBytes) throws IOException {
      this.root = root;
      this.maxBytes = maxBytes;
      Files.createDirectories(root);
      loadExisting();
    }

    Object lock(String key) {
      return locks.computeIfAbsent(key, k -> new Object());
    }

    /** Drops unused layers, least recently used first, until the store fits. */
    synchronized void evict() {
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
          Files.deleteIfExists(root.resolve(next.getKey() + RECORD)); // unrecorded first: never half trusted
          Files.deleteIfExists(root.resolve(next.getKey() + XATTRS));
          Trees.deleteRecursively(e.dir);
        } catch (IOException ex) {
          log.warn("evicting layer {} failed: {}", next.getKey(), ex.toString());
        }
      }
    }

    private void loadExisting() throws IOException {
      Map<String, Long> found = new HashMap<>();
      try (var dirs = Files.list(root)) {
        for (Path path : dirs.toList()) {
          String name = path.getFileName().toString();
          if (name.startsWith(".")) {
            Trees.deleteRecursively(path); // an extraction or record a killed worker left half done
          } else if (name.matches("[0-9a-f]{64}")) {
            Tally expected = recorded(name);
            Tally actual = Tally.of(path);
            if (actual.equals(expected) && Files.isRegularFile(root.resolve(name + XATTRS))) {
              found.put(name, actual.bytes());
            } else {
              log.warn("layer {} in {} is not what was published ({} against its record {}): extracted again when"
                  + " needed", name, root, actual, expected);
              Files.deleteIfExists(root.resolve(name + RECORD));
              Files.deleteIfExists(root.resolve(name + XATTRS));
              Trees.deleteRecursively(path);
            }
          }
        }
      }
      try (var records = Files.list(root)) {
        for (Path path : records.toList()) {
          String name = path.getFileName().toString();
          String suffix = name.endsWith(RECORD) ? RECORD : name.endsWith(XATTRS) ? XATTRS : null;
          if (suffix != null && !found.containsKey(name.substring(0, name.length() - suffix.length()))) {
            Files.deleteIfExists(path); // a record whose tree is gone
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

    private Tally recorded(String key) {
      try {
        return Tally.parse(Files.readString(root.resolve(key + RECORD), StandardCharsets.US_ASCII));
      } catch (IOException | RuntimeException e) {
        return null; // no record, or not one: the entry is not trusted
      }
    }
  }
}
