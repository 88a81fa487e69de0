package dev.stagefarm.coordinator.remotecache;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.export.OciArchiveExporter;
import dev.stagefarm.oci.export.OciLayoutDirectory;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A cache in an OCI layout directory, as buildx's {@code type=local}: the cache's index is a blob, named in
 * {@code index.json} by {@code org.opencontainers.image.ref.name} (the tag, "latest").
 */
final class LocalCacheLocation implements CacheLocation {
  private static final int MAX_INDEX_BYTES = 4 << 20;
  private final Path dir;
  private final String tag;

  LocalCacheLocation(Path dir, String tag) {
    this.dir = dir;
    this.tag = tag;
  }

  @Override
  public Optional<Root> readRoot() throws IOException {
    Path indexFile = dir.resolve("index.json");
    if (!Files.isRegularFile(indexFile, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    if (Files.size(indexFile) > MAX_INDEX_BYTES) {
      throw new IOException(indexFile + " has more than " + MAX_INDEX_BYTES + " bytes");
    }
    ImageIndex index = ImageJson.readIndex(Files.readAllBytes(indexFile));
    Optional<Descriptor> entry = index.manifests().stream()
        .filter(d -> tag.equals(d.annotations().get(OciArchiveExporter.REF_NAME))).reduce((a, b) -> b);
    if (entry.isEmpty()) {
      return Optional.empty();
    }
    if (entry.get().size() > MAX_INDEX_BYTES) {
      throw new IOException("the cache index " + entry.get().digest() + " in " + dir + " has more than "
          + MAX_INDEX_BYTES + " bytes");
    }
    byte[] bytes = RemoteCacheImporter.readVerified(openBlob(entry.get().digest()), entry.get().digest(),
        entry.get().size(), MAX_INDEX_BYTES, "the cache index in " + dir);
    return Optional.of(new Root(entry.get().mediaType(), bytes));
  }

  @Override
  public InputStream openBlob(Digest digest) throws IOException {
    return layout().open(digest);
  }

  @Override
  public void put(Digest digest, long size, InputStream content) throws IOException {
    layout().put(digest, size, content);
  }

  @Override
  public boolean contains(Digest digest) throws IOException {
    return Files.exists(dir.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex()));
  }

  @Override
  public void writeRoot(Root root) throws IOException {
    OciLayoutDirectory layout = layout();
    Digest digest = Digest.of(root.bytes());
    layout.put(digest, root.bytes().length, new java.io.ByteArrayInputStream(root.bytes()));
    layout.tag(new Descriptor(root.mediaType(), digest, root.bytes().length), tag);
  }

  private OciLayoutDirectory layout() throws IOException {
    return OciLayoutDirectory.open(dir);
  }

  @Override
  public String describe() {
    return "type=local " + dir;
  }
}
