package dev.stagefarm.coordinator.store;

import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * An export's blobs, the small ones read from the store concurrently ahead of the tar writer: an
 * archive is written blob after blob, and one GET after another cost a warm build's export of a
 * 33-layer image ~0.15 s of round trips. Each prefetched blob is read whole and verified against its
 * digest by the store's reader (as a streamed one is at its end), then handed over from memory; a
 * blob over {@link #MAX_BLOB} bytes, or over the export's {@link #MAX_TOTAL}, is streamed from the
 * store when its turn comes.
 */
final class PrefetchedBlobs implements BlobSource, AutoCloseable {
  /** Larger blobs are streamed, not held. */
  static final long MAX_BLOB = 4L << 20;
  /** Bytes one export holds in memory at most. */
  static final long MAX_TOTAL = 32L << 20;
  /** Reads in flight per export. */
  static final int PARALLEL = 8;

  private final BlobStore store;
  private final ExecutorService reads = Executors.newFixedThreadPool(PARALLEL, Thread.ofVirtual().factory());
  private final Map<Digest, Future<byte[]>> ahead = new HashMap<>();

  /** Starts reading {@code blobs} (in their order: the writer's) that fit the limits. */
  PrefetchedBlobs(BlobStore store, List<Descriptor> blobs) {
    this.store = store;
    long total = 0;
    for (Descriptor blob : blobs) {
      if (blob.size() >= 0 && blob.size() <= MAX_BLOB && total + blob.size() <= MAX_TOTAL
          && !ahead.containsKey(blob.digest())) {
        total += blob.size();
        ahead.put(blob.digest(), reads.submit(() -> read(blob)));
      }
    }
  }

  /**
   * The blob's bytes, at most its descriptor's size (an object the store holds under its digest cannot
   * make an export hold more), read to the end so that the store's reader checks the digest.
   */
  private byte[] read(Descriptor blob) throws IOException {
    try (InputStream in = store.open(Namespace.BLOBS, blob.digest())) {
      byte[] bytes = in.readNBytes((int) blob.size());
      if (bytes.length < blob.size() || in.read() >= 0) {
        throw new IOException("blob " + blob.digest() + " in the store is not the " + blob.size()
            + " bytes its manifest says (" + (bytes.length < blob.size() ? bytes.length + " bytes" : "more") + ")");
      }
      return bytes;
    }
  }

  /** How many blobs are read ahead (tests). */
  int prefetched() {
    return ahead.size();
  }

  @Override
  public InputStream open(Digest digest) throws IOException {
    Future<byte[]> read;
    synchronized (ahead) {
      read = ahead.remove(digest);
    }
    if (read == null) {
      return store.open(Namespace.BLOBS, digest);
    }
    try {
      return new ByteArrayInputStream(read.get());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io; // a missing blob, a digest mismatch: as a streamed read would have failed
      }
      throw new IOException("reading blob " + digest + " from the store failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted reading blob " + digest);
    }
  }

  /**
   * The blob's file, when the store is a directory and the blob was not read ahead ({@link
   * dev.stagefarm.oci.store.FileBlobStore#openChannel}: not verified, the file export verifies its copy); null
   * otherwise (read it with {@link #open}).
   */
  @Override
  public FileChannel openFile(Digest digest) throws IOException {
    synchronized (ahead) {
      if (ahead.containsKey(digest)) {
        return null;
      }
    }
    return store instanceof FileBlobStore files ? files.openChannel(Namespace.BLOBS, digest) : null;
  }

  /**
   * A prefetched blob was read to its end by the store's verifying reader before it is handed out; any
   * other is the store's stream, which verifies at its end.
   */
  @Override
  public boolean verifiesAtEnd() {
    return true;
  }

  /**
   * Takes no new reads; those under way (an export that failed early) finish on their own and are
   * dropped: interrupting one mid-request would leave its response, and its connection, unclosed.
   */
  @Override
  public void close() {
    reads.shutdown();
  }
}
