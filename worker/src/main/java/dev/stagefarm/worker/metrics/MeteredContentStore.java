package dev.stagefarm.worker.metrics;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.worker.store.ContentStore;
import io.micrometer.core.instrument.Counter;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Counts the bytes a worker moves to and from the content store, as they flow: a download read
 * half-way counts half, an upload the store already had (and so never read) counts nothing.
 */
public final class MeteredContentStore implements ContentStore {
  private final ContentStore store;
  private final WorkerMetrics metrics;

  public MeteredContentStore(ContentStore store, WorkerMetrics metrics) {
    this.store = store;
    this.metrics = metrics;
  }

  @Override
  public InputStream openBlob(Digest digest) throws IOException {
    return new Counting(store.openBlob(digest), metrics.downloaded);
  }

  @Override
  public InputStream openContext(Digest digest) throws IOException {
    return new Counting(store.openContext(digest), metrics.downloaded);
  }

  @Override
  public InputStream openProgram(Digest digest) throws IOException {
    return new Counting(store.openProgram(digest), metrics.downloaded);
  }

  @Override
  public Optional<byte[]> readSealedSecrets(String buildId, int maxBytes) throws IOException {
    Optional<byte[]> sealed = store.readSealedSecrets(buildId, maxBytes);
    sealed.ifPresent(bytes -> metrics.downloaded.increment(bytes.length));
    return sealed;
  }

  @Override
  public void putBlob(Digest digest, long size, InputStream content) throws IOException {
    store.putBlob(digest, size, new Counting(content, metrics.uploaded));
  }

  @Override
  public long putBlobFile(Digest digest, long size, java.nio.file.Path file) throws IOException {
    long sent = store.putBlobFile(digest, size, file);
    metrics.uploaded.increment(sent);
    return sent;
  }

  /** Adds every byte read through it to a counter. */
  static final class Counting extends FilterInputStream {
    private final Counter counter;

    Counting(InputStream in, Counter counter) {
      super(in);
      this.counter = counter;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        counter.increment();
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        counter.increment(n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(n);
      counter.increment(skipped);
      return skipped;
    }
  }
}
