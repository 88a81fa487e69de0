package dev.stagefarm.coordinator.remotecache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.S3Fixture;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An imported cache is untrusted input: these tests write caches by hand (an OCI layout directory, a real registry)
 * and attack them — a blob that is not its digest, a diffID that lies, an oversized config — and check that no such
 * layer is ever served to a build, and that the farm's store never holds it.
 */
class RemoteCacheImporterTest {
  private static final CacheKey KEY = new CacheKey("a".repeat(64));
  private static final CacheKey NO_LAYER_KEY = new CacheKey("b".repeat(64));

  private final BlobStore store = S3Fixture.newStore("remote-cache-import");
  private final List<String> warnings = new ArrayList<>();

  /** A cache in BuildKit's format: one record with a layer, one without, the layer's diffID as given. */
  private static void writeCache(CacheLocation location, byte[] layer, Digest claimedDiffId) throws Exception {
    Digest blob = Digest.of(layer);
    location.put(blob, layer.length, new java.io.ByteArrayInputStream(layer));
    byte[] config = new CacheConfig(
        List.of(new CacheConfig.Layer(blob, -1, MediaTypes.OCI_LAYER_TAR_GZIP, Optional.of(claimedDiffId),
            layer.length, "1970-01-01T00:00:00Z")),
        List.of(new CacheConfig.Record("sha256:" + KEY.hex(), List.of(), Optional.of(0), false),
            new CacheConfig.Record("sha256:" + NO_LAYER_KEY.hex(), List.of(0), Optional.empty(), true)))
        .toJson();
    Digest configDigest = Digest.of(config);
    location.put(configDigest, config.length, new java.io.ByteArrayInputStream(config));
    location.writeRoot(new CacheLocation.Root(MediaTypes.OCI_INDEX, ImageJson.writeIndex(ImageIndex.oci(List.of(
        new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, blob, layer.length),
        new Descriptor(CacheConfig.MEDIA_TYPE, configDigest, config.length))))));
  }

  /** An honest cache of the gzipped tar {@code layer} in {@code <dir>/cache}; returns its layer blob's file. */
  private static Path writeLocalCache(Path dir, byte[] layer) throws Exception {
    byte[] plain;
    try (java.io.InputStream gz = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(layer))) {
      plain = gz.readAllBytes();
    }
    writeCache(new LocalCacheLocation(dir.resolve("cache"), "latest"), layer, Digest.of(plain));
    return dir.resolve("cache/blobs/sha256").resolve(Digest.of(layer).hex());
  }

  private static byte[] tar(String name, String content) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      byte[] data = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry entry = new TarArchiveEntry(name);
      entry.setSize(data.length);
      tar.putArchiveEntry(entry);
      tar.write(data);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }

  private static byte[] gzip(byte[] plain) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(plain);
    }
    return bytes.toByteArray();
  }

  private CacheRecords read(CacheLocation location, Path scratch) throws Exception {
    return RemoteCacheImporter.read(location, store, scratch, warnings::add);
  }

  @Test
  void anHonestCacheServesItsLayerAfterCopyingItIntoTheFarmsStore(@TempDir Path dir) throws Exception {
    byte[] plain = tar("hello.txt", "hello");
    byte[] layer = gzip(plain);
    writeCache(new LocalCacheLocation(dir.resolve("cache"), "latest"), layer, Digest.of(plain));

    CacheRecords records = read(new LocalCacheLocation(dir.resolve("cache"), "latest"), dir.resolve("scratch"));

    CachedOp hit = records.find(KEY).orElseThrow();
    assertThat(hit.layer().orElseThrow().blob().digest()).isEqualTo(Digest.of(layer));
    assertThat(hit.layer().orElseThrow().diffId()).isEqualTo(Digest.of(plain));
    assertThat(store.readAllBytes(Namespace.BLOBS, Digest.of(layer))).isEqualTo(layer);
    assertThat(records.find(NO_LAYER_KEY)).contains(new CachedOp(Optional.empty()));
    assertThat(records.find(new CacheKey("c".repeat(64)))).isEmpty();
    assertThat(warnings).isEmpty();
  }

  @Test
  void aBlobReplacedInTheCacheDirectoryIsNeverServedNorStored(@TempDir Path dir) throws Exception {
    byte[] layer = gzip(tar("good.txt", "good"));
    Path blobFile = writeLocalCache(dir, layer);
    // the attack: same name (digest), other bytes — e.g. a shared cache directory someone else can write
    Digest digest = Digest.of(layer);
    byte[] evil = gzip(tar("evil.sh", "rm -rf /"));
    Files.write(blobFile, evil);

    CacheRecords records = read(new LocalCacheLocation(dir.resolve("cache"), "latest"), dir.resolve("scratch"));

    assertThat(records.find(KEY)).isEmpty();
    assertThat(store.exists(Namespace.BLOBS, digest)).isFalse();
    assertThat(store.exists(Namespace.BLOBS, Digest.of(evil))).isFalse();
    assertThat(warnings).singleElement().asString().contains("layer " + digest + " not used");
    assertThat(dir.resolve("scratch")).isEmptyDirectory(); // the checked copy does not stay behind
  }

  @Test
  void aBlobLongerThanItsDescriptorIsRefusedAtTheFirstBytePastItsSize(@TempDir Path dir) throws Exception {
    byte[] layer = gzip(tar("good.txt", "good"));
    Path blobFile = writeLocalCache(dir, layer);
    // the attack: the stored blob goes on past the size its descriptor declares (the first bytes are the real ones)
    Digest digest = Digest.of(layer);
    Files.write(blobFile, new byte[1 << 20], java.nio.file.StandardOpenOption.APPEND);

    CacheRecords records = read(new LocalCacheLocation(dir.resolve("cache"), "latest"), dir.resolve("scratch"));

    assertThat(records.find(KEY)).isEmpty();
    assertThat(store.exists(Namespace.BLOBS, digest)).isFalse();
    assertThat(warnings).singleElement().asString()
        .contains("layer " + digest + " not used: the served blob has more than " + layer.length + " bytes");
  }

  @Test
  void aConfigLongerThanItsDescriptorIsRefusedNamingTheSize(@TempDir Path dir) throws Exception {
    LocalCacheLocation location = new LocalCacheLocation(dir.resolve("cache"), "latest");
    byte[] config = "{\"layers\":[],\"records\":[]}".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(config);
    Files.createDirectories(dir.resolve("cache/blobs/sha256"));
    Files.write(dir.resolve("cache/blobs/sha256").resolve(digest.hex()), (new String(config, StandardCharsets.UTF_8)
        + " ".repeat(100)).getBytes(StandardCharsets.UTF_8));
    location.writeRoot(new CacheLocation.Root(MediaTypes.OCI_INDEX, ImageJson.writeIndex(ImageIndex.oci(List.of(
        new Descriptor(CacheConfig.MEDIA_TYPE, digest, config.length))))));

    assertThatThrownBy(() -> read(location, dir.resolve("scratch")))
        .hasMessageContaining("the cache config has more than " + config.length + " bytes");
  }

  @Test
  void aBlobTheRegistryServesWithOtherBytesIsNeverServed(@TempDir Path dir) throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    ImageReference ref = registry.reference("cache-attack/tampered:1");
    byte[] plain = tar("good.txt", "registry");
    byte[] layer = gzip(plain);
    try (RegistryClient client = new RegistryClient(registry.settings())) {
      writeCache(new RegistryCacheLocation(client, ref), layer, Digest.of(plain));
      // the attack: the registry's storage (a compromised or careless registry) now holds other bytes
      Digest digest = Digest.of(layer);
      Path data = registry.storageDir().resolve("docker/registry/v2/blobs/sha256")
          .resolve(digest.hex().substring(0, 2)).resolve(digest.hex()).resolve("data");
      assertThat(data).exists();
      Files.write(data, gzip(tar("evil.txt", "evil")));

      CacheRecords records = read(new RegistryCacheLocation(client, ref), dir.resolve("scratch"));

      assertThat(records.find(KEY)).isEmpty();
      assertThat(store.exists(Namespace.BLOBS, digest)).isFalse();
      assertThat(warnings).singleElement().asString().contains("not used");
    }
  }

  @Test
  void aLayerWhoseDiffIdLiesIsNeverServed(@TempDir Path dir) throws Exception {
    byte[] plain = tar("a.txt", "a");
    byte[] layer = gzip(plain);
    Digest lie = Digest.of(tar("b.txt", "b"));
    writeCache(new LocalCacheLocation(dir.resolve("cache"), "latest"), layer, lie);

    CacheRecords records = read(new LocalCacheLocation(dir.resolve("cache"), "latest"), dir.resolve("scratch"));

    assertThat(records.find(KEY)).isEmpty();
    assertThat(warnings).singleElement().asString().contains("not the " + lie);
    // the record without a layer claims nothing about content: it is served
    assertThat(records.find(NO_LAYER_KEY)).isPresent();
  }

  @Test
  void aConfigOverTheSizeLimitIsRefusedBeforeItIsRead(@TempDir Path dir) throws Exception {
    LocalCacheLocation location = new LocalCacheLocation(dir.resolve("cache"), "latest");
    location.writeRoot(new CacheLocation.Root(MediaTypes.OCI_INDEX, ImageJson.writeIndex(ImageIndex.oci(List.of(
        new Descriptor(CacheConfig.MEDIA_TYPE, Digest.of("x"), CacheConfig.MAX_BYTES + 1L))))));

    assertThatThrownBy(() -> read(location, dir.resolve("scratch")))
        .hasMessageContaining("more than the limit of " + CacheConfig.MAX_BYTES);
  }

  @Test
  void aConfigThatIsNotItsDigestIsRefused(@TempDir Path dir) throws Exception {
    LocalCacheLocation location = new LocalCacheLocation(dir.resolve("cache"), "latest");
    byte[] config = "{\"layers\":[],\"records\":[]}".getBytes(StandardCharsets.UTF_8);
    Digest claimed = Digest.of("another config");
    Files.createDirectories(dir.resolve("cache/blobs/sha256"));
    Files.write(dir.resolve("cache/blobs/sha256").resolve(claimed.hex()), config);
    location.writeRoot(new CacheLocation.Root(MediaTypes.OCI_INDEX, ImageJson.writeIndex(ImageIndex.oci(List.of(
        new Descriptor(CacheConfig.MEDIA_TYPE, claimed, config.length))))));

    assertThatThrownBy(() -> read(location, dir.resolve("scratch")))
        .hasMessageContaining("the cache config is not the blob its digest names");
  }

  @Test
  void aMissingCacheIsAWarningAndNoRecords(@TempDir Path dir) throws Exception {
    CacheRecords records = read(new LocalCacheLocation(dir.resolve("nothing-here"), "latest"), dir.resolve("s"));

    assertThat(records.find(KEY)).isEmpty();
    assertThat(warnings).singleElement().asString().contains("no cache there");
  }

  @Test
  void anImageIsNotTakenForACache(@TempDir Path dir) throws Exception {
    LocalCacheLocation location = new LocalCacheLocation(dir.resolve("cache"), "latest");
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
        + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + Digest.of("c") + "\",\"size\":1},\"layers\":[]}")
        .getBytes(StandardCharsets.UTF_8);
    location.writeRoot(new CacheLocation.Root(MediaTypes.OCI_MANIFEST, manifest));

    assertThatThrownBy(() -> read(location, dir.resolve("scratch"))).hasMessageContaining("not a BuildKit cache");
  }

  @Test
  void readsTheImageManifestFormToo(@TempDir Path dir) throws Exception {
    // BuildKit's image-manifest=true: the cache config is the manifest's config, the blobs its layers
    byte[] plain = tar("m.txt", "manifest form");
    byte[] layer = gzip(plain);
    LocalCacheLocation location = new LocalCacheLocation(dir.resolve("cache"), "latest");
    location.put(Digest.of(layer), layer.length, new java.io.ByteArrayInputStream(layer));
    byte[] config = new CacheConfig(
        List.of(new CacheConfig.Layer(Digest.of(layer), -1, MediaTypes.OCI_LAYER_TAR_GZIP, Optional.empty(),
            layer.length, "1970-01-01T00:00:00Z")),
        List.of(new CacheConfig.Record("sha256:" + KEY.hex(), List.of(), Optional.of(0), false))).toJson();
    location.put(Digest.of(config), config.length, new java.io.ByteArrayInputStream(config));
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
        + CacheConfig.MEDIA_TYPE + "\",\"digest\":\"" + Digest.of(config) + "\",\"size\":" + config.length
        + "},\"layers\":[{\"mediaType\":\"" + MediaTypes.OCI_LAYER_TAR_GZIP + "\",\"digest\":\"" + Digest.of(layer)
        + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
    location.writeRoot(new CacheLocation.Root(MediaTypes.OCI_MANIFEST, manifest));

    CachedOp hit = read(location, dir.resolve("scratch")).find(KEY).orElseThrow();

    // no diffID in the cache: the one computed from the blob is used
    assertThat(hit.layer().orElseThrow().diffId()).isEqualTo(Digest.of(plain));
  }
}
