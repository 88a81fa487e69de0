package dev.stagefarm.worker.store;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The content store in memory, for tests: verifies digests on put, as the S3 one does. */
public final class InMemoryContentStore implements ContentStore, BlobSink {
  private final Map<Digest, byte[]> blobs = new ConcurrentHashMap<>();
  private final Map<Digest, byte[]> context = new ConcurrentHashMap<>();
  private final Map<Digest, byte[]> programs = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicInteger contextReads = new java.util.concurrent.atomic.AtomicInteger();

  @Override
  public InputStream openBlob(Digest digest) throws IOException {
    return open(blobs, digest, "blobs");
  }

  @Override
  public InputStream openContext(Digest digest) throws IOException {
    return open(context, digest, "context");
  }

  @Override
  public InputStream openProgram(Digest digest) throws IOException {
    return open(programs, digest, "programs");
  }

  private final Map<String, byte[]> sealedSecrets = new ConcurrentHashMap<>();

  @Override
  public java.util.Optional<byte[]> readSealedSecrets(String buildId, int maxBytes) throws IOException {
    byte[] sealed = sealedSecrets.get(buildId);
    if (sealed != null && sealed.length > maxBytes) {
      throw new IOException("the sealed secrets of " + buildId + " are larger than " + maxBytes + " bytes");
    }
    return java.util.Optional.ofNullable(sealed);
  }

  /** Stores a build's sealed secrets, as the coordinator does. */
  public void putSealedSecrets(String buildId, byte[] sealed) {
    sealedSecrets.put(buildId, sealed.clone());
  }

  /** Stores a serialized program; returns its digest. */
  public Digest putProgram(byte[] serialized) {
    Digest digest = Digest.of(serialized);
    programs.put(digest, serialized.clone());
    return digest;
  }

  @Override
  public void putBlob(Digest digest, long size, InputStream content) throws IOException {
    blobs.put(digest, verified(digest, content.readAllBytes()));
  }

  @Override
  public void put(Digest digest, long size, InputStream content) throws IOException {
    putBlob(digest, size, content);
  }

  @Override
  public boolean contains(Digest digest) {
    return blobs.containsKey(digest);
  }

  /** Stores a build-context file; returns its digest. */
  public Digest putContext(byte[] content) {
    Digest digest = Digest.of(content);
    context.put(digest, content.clone());
    return digest;
  }

  /** How many context files were read: what a worker fetched. */
  public int contextReads() {
    return contextReads.get();
  }

  public byte[] blob(Digest digest) throws IOException {
    try (InputStream in = openBlob(digest)) {
      return in.readAllBytes();
    }
  }

  private InputStream open(Map<Digest, byte[]> namespace, Digest digest, String name) throws IOException {
    byte[] bytes = namespace.get(digest);
    if (bytes == null) {
      throw new BlobNotFoundException(digest, "the in-memory store's " + name);
    }
    if (namespace == context) {
      contextReads.incrementAndGet();
    }
    return new ByteArrayInputStream(bytes);
  }

  private static byte[] verified(Digest digest, byte[] bytes) throws IOException {
    Digest actual = Digest.of(bytes);
    if (!actual.equals(digest)) {
      throw new DigestMismatchException(digest, actual, "in-memory store");
    }
    return bytes;
  }
}
