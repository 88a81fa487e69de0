package dev.stagefarm.coordinator.remotecache;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingInputStream;
import dev.stagefarm.oci.LimitedInputStream;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.layer.LayerCompressions;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.CacheKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Reads a cache exported in BuildKit's format and turns its records into {@link CacheRecords} for one build.
 *
 * <p>Everything read is untrusted: the root and config are size-limited and digest-verified, and a record's layer
 * is served only after its blob was copied into the farm's store with its digest and size verified and its diffID
 * recomputed from the blob; a blob that is not what its record says is a miss, never a layer of the build.
 */
public final class RemoteCacheImporter {
  /** A single cached layer larger than this is not imported (the op runs instead). */
  public static final long MAX_LAYER_BYTES = 8L << 30;
  /** A layer that unpacks to more than this is not imported (a decompression bomb costs bounded time). */
  public static final long MAX_UNCOMPRESSED_BYTES = 64L << 30;
  private static final int MAX_ROOT_BYTES = 4 << 20;
  private static final String UNCOMPRESSED = "containerd.io/uncompressed";

  private RemoteCacheImporter() {}

  /** One layer a record points at, as the cache describes it; verified when first used. */
  private record Candidate(Descriptor blob, Optional<Digest> diffId) {}

  /**
   * The records of the cache at {@code location}; empty records when it has none (a warning says so).
   *
   * @param store the farm's store, where a layer is copied before its record is served
   * @param scratch a directory for a layer while its diffID is checked
   * @throws IOException when the cache exists but cannot be read or is not a cache
   */
  public static CacheRecords read(CacheLocation location, BlobStore store, Path scratch, Consumer<String> warnings)
      throws IOException {
    Optional<CacheLocation.Root> root = location.readRoot();
    if (root.isEmpty()) {
      warnings.accept("--cache-from " + location.describe() + ": no cache there (not found); the build runs"
          + " without it");
      return key -> Optional.empty();
    }
    if (root.get().bytes().length > MAX_ROOT_BYTES) {
      throw new IOException("the cache index has more than " + MAX_ROOT_BYTES + " bytes");
    }
    List<Descriptor> blobs;
    Descriptor configDescriptor;
    String mediaType = root.get().mediaType();
    if (MediaTypes.isIndex(mediaType)) {
      ImageIndex index = ImageJson.readIndex(root.get().bytes());
      configDescriptor = index.manifests().stream().filter(d -> d.mediaType().equals(CacheConfig.MEDIA_TYPE))
          .findFirst().orElseThrow(() -> new IOException("the index lists no " + CacheConfig.MEDIA_TYPE
              + ": not a BuildKit cache"));
      blobs = index.manifests();
    } else if (MediaTypes.isManifest(mediaType)) {
      ImageManifest manifest = ImageJson.readManifest(root.get().bytes());
      configDescriptor = manifest.config();
      if (!configDescriptor.mediaType().equals(CacheConfig.MEDIA_TYPE)) {
        throw new IOException("an image (config " + configDescriptor.mediaType() + "), not a BuildKit cache");
      }
      blobs = manifest.layers();
    } else {
      throw new IOException("served " + mediaType + ", not an OCI index or manifest");
    }
    if (configDescriptor.size() > CacheConfig.MAX_BYTES) {
      throw new IOException("the cache config has " + configDescriptor.size() + " bytes, more than the limit of "
          + CacheConfig.MAX_BYTES);
    }
    byte[] configBytes = readVerified(location.openBlob(configDescriptor.digest()), configDescriptor.digest(),
        configDescriptor.size(), CacheConfig.MAX_BYTES, "the cache config");
    CacheConfig config;
    try {
      config = CacheConfig.parse(configBytes);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    Map<Digest, Descriptor> byDigest = new HashMap<>();
    for (Descriptor blob : blobs) {
      byDigest.putIfAbsent(blob.digest(), blob);
    }
    Map<CacheKey, Optional<Candidate>> records = new HashMap<>();
    for (CacheConfig.Record record : config.records()) {
      Optional<CacheKey> key = cacheKey(record.digest());
      if (key.isEmpty()) {
        continue; // not a key stagefarm could have made (another algorithm)
      }
      if (record.noLayer()) {
        records.putIfAbsent(key.get(), Optional.empty());
      } else if (record.result().isPresent()) {
        int index = record.result().get();
        if (index < 0 || index >= config.layers().size()) {
          continue;
        }
        CacheConfig.Layer layer = config.layers().get(index);
        Descriptor blob = layer.blob() == null ? null : byDigest.get(layer.blob());
        if (blob == null || !MediaTypes.isLayer(blob.mediaType())) {
          continue; // a layer the index does not list is unusable, as BuildKit treats it
        }
        Optional<Digest> diffId = layer.diffId().or(() -> Optional.ofNullable(blob.annotations().get(UNCOMPRESSED))
            .filter(Digest::isValid).map(Digest::parse));
        records.putIfAbsent(key.get(), Optional.of(new Candidate(blob, diffId)));
      }
    }
    return new Imported(location, store, scratch, Map.copyOf(records), warnings);
  }

  private static Optional<CacheKey> cacheKey(String digest) {
    if (!digest.startsWith("sha256:")) {
      return Optional.empty();
    }
    try {
      return Optional.of(new CacheKey(digest.substring("sha256:".length())));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The cache's records; a hit copies and verifies its layer into the farm's store once. */
  private static final class Imported implements CacheRecords {
    private final CacheLocation location;
    private final BlobStore store;
    private final Path scratch;
    private final Map<CacheKey, Optional<Candidate>> records;
    private final Consumer<String> warnings;
    private final Map<Digest, Optional<LayerRef>> copied = new ConcurrentHashMap<>();

    Imported(CacheLocation location, BlobStore store, Path scratch, Map<CacheKey, Optional<Candidate>> records,
        Consumer<String> warnings) {
      this.location = location;
      this.store = store;
      this.scratch = scratch;
      this.records = records;
      this.warnings = warnings;
    }

    @Override
    public Optional<CachedOp> find(CacheKey key) {
      Optional<Candidate> record = records.get(key);
      if (record == null) {
        return Optional.empty();
      }
      if (record.isEmpty()) {
        return Optional.of(new CachedOp(Optional.empty()));
      }
      Candidate candidate = record.get();
      return copied.computeIfAbsent(candidate.blob().digest(), digest -> copy(candidate))
          .map(layer -> new CachedOp(Optional.of(layer)));
    }

    private Optional<LayerRef> copy(Candidate candidate) {
      Descriptor blob = candidate.blob();
      try {
        if (blob.size() < 0 || blob.size() > MAX_LAYER_BYTES) {
          throw new IOException("its size " + blob.size() + " is outside 0.." + MAX_LAYER_BYTES);
        }
        Files.createDirectories(scratch);
        Path file = Files.createTempFile(scratch, "cache-layer-", ".blob");
        try {
          try (InputStream in = location.openBlob(blob.digest());
               DigestingInputStream digesting = new DigestingInputStream(
                   LimitedInputStream.failingPast(in, blob.size(), "the served blob"));
               OutputStream out = Files.newOutputStream(file)) {
            digesting.transferTo(out);
            digesting.verify(blob.digest(), blob.size());
          }
          Digest diffId = diffId(file, blob.mediaType());
          if (candidate.diffId().isPresent() && !candidate.diffId().get().equals(diffId)) {
            throw new IOException("its uncompressed digest is " + diffId + ", not the " + candidate.diffId().get()
                + " the cache names");
          }
          try (InputStream in = Files.newInputStream(file)) {
            store.put(Namespace.BLOBS, blob.digest(), blob.size(), in); // verifies again, as every upload
          }
          return Optional.of(new LayerRef(new Descriptor(blob.mediaType(), blob.digest(), blob.size()), diffId));
        } finally {
          Files.deleteIfExists(file);
        }
      } catch (IOException | RuntimeException e) {
        warnings.accept("--cache-from " + location.describe() + ": layer " + blob.digest() + " not used: "
            + e.getMessage());
        return Optional.empty();
      }
    }

    private static Digest diffId(Path file, String mediaType) throws IOException {
      if (!MediaTypes.isLayer(mediaType)) {
        throw new IOException("its media type " + mediaType + " is not a layer's");
      }
      try (InputStream tar = LayerCompressions.decompress(Files.newInputStream(file));
           DigestingInputStream digesting = new DigestingInputStream(tar)) {
        byte[] buffer = new byte[1 << 16];
        for (int n; (n = digesting.read(buffer)) >= 0; ) {
          if (digesting.count() > MAX_UNCOMPRESSED_BYTES) {
            throw new IOException("it unpacks to more than " + MAX_UNCOMPRESSED_BYTES + " bytes");
          }
        }
        return digesting.digest();
      }
    }
  }

  /** Reads a small blob whole, refusing more than {@code limit} bytes and content that is not {@code digest}. */
  static byte[] readVerified(InputStream stream, Digest digest, long size, int limit, String what) throws IOException {
    // a server that sends more than it declared (or than the limit) is not read on
    try (DigestingInputStream in =
        new DigestingInputStream(LimitedInputStream.failingPast(stream, Math.min(size, limit), what))) {
      byte[] bytes = in.readAllBytes();
      in.verify(digest, size);
      return bytes;
    } catch (dev.stagefarm.oci.DigestMismatchException e) {
      throw new IOException(what + " is not the blob its digest names: " + e.getMessage(), e);
    }
  }
}
