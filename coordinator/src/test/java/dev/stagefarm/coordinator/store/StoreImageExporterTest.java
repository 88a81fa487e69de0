package dev.stagefarm.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.ImageAssembler;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.testkit.S3Fixture;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Export from the real (embedded) S3 store with the image's blobs read ahead concurrently: the
 * archive holds each blob as stored, and a blob altered in the store (other bytes under its digest,
 * or more bytes than its manifest says) still fails the export, naming it.
 */
@ExtendWith(S3Fixture.class)
class StoreImageExporterTest {
  /** An image of {@code layers} small layers, stored as the assembler stores it; returns its manifest digest. */
  static String storedImage(BlobStore store, int layers) throws Exception {
    StageResult target = StoredImageAssemblerTest.target(store, layers);
    return new StoredImageAssembler(store, StoredImageAssembler.ImagePusher.UNSUPPORTED)
        .assemble(target, new ImageAssembler.Request(List.of(), false, Map.of(), Map.of())).manifestDigest();
  }

  static Map<String, byte[]> entries(byte[] tar) throws IOException {
    Map<String, byte[]> entries = new HashMap<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      TarArchiveEntry entry;
      while ((entry = in.getNextEntry()) != null) {
        entries.put(entry.getName(), in.readAllBytes());
      }
    }
    return entries;
  }

  static ImageManifest manifest(BlobStore store, String digest) throws IOException {
    return ImageJson.readManifest(store.readAllBytes(Namespace.BLOBS, Digest.parse(digest)));
  }

  /** Puts {@code bytes} under the blob's key, past the store's checks: what a tampered store holds. */
  static void overwrite(S3Config config, Digest blob, byte[] bytes) throws Exception {
    try (io.minio.MinioAsyncClient client = io.minio.MinioAsyncClient.builder().endpoint(config.endpoint())
        .credentialsProvider(config.credentials().provider()).region(config.region()).build()) {
      client.putObject(io.minio.PutObjectAPIArgs.builder().bucket(config.bucket()).object(Namespace.BLOBS.key(blob))
          .data(bytes, bytes.length).contentType("application/octet-stream").build()).get();
    }
  }

  @Test
  void bothFormatsHoldEveryBlobOfTheImageAsStored(BlobStore store) throws Exception {
    String digest = storedImage(store, 12);
    ImageManifest image = manifest(store, digest);
    List<Descriptor> parts = new java.util.ArrayList<>(image.layers());
    parts.add(image.config());
    try (PrefetchedBlobs ahead = new PrefetchedBlobs(store, parts)) {
      assertThat(ahead.prefetched()).isEqualTo(13); // the config and every layer, each small
    }

    for (String format : List.of("oci", "docker")) {
      ByteArrayOutputStream tar = new ByteArrayOutputStream();
      new StoreImageExporter(store).export(digest, format, List.of("example/app:1"), tar);

      Map<String, byte[]> entries = entries(tar.toByteArray());
      for (Descriptor part : parts) {
        assertThat(entries.get("blobs/sha256/" + part.digest().hex())).as(format + " " + part.digest())
            .isEqualTo(store.readAllBytes(Namespace.BLOBS, part.digest()));
      }
    }
  }

  @Test
  void aLayerAlteredInTheStoreFailsTheExportNamingIt(BlobStore store, S3Config config) throws Exception {
    String digest = storedImage(store, 6);
    Descriptor layer = manifest(store, digest).layers().get(3);
    byte[] other = new byte[(int) layer.size()]; // the same size, other bytes
    java.util.Arrays.fill(other, (byte) 'x');
    overwrite(config, layer.digest(), other);

    assertThatThrownBy(() -> new StoreImageExporter(store).export(digest, "oci", List.of(), new ByteArrayOutputStream()))
        .isInstanceOf(IOException.class).hasMessageContaining(layer.digest().hex());
  }

  @Test
  void aBlobLargerInTheStoreThanItsManifestSaysIsNotReadWhole(BlobStore store, S3Config config) throws Exception {
    String digest = storedImage(store, 2);
    Descriptor layer = manifest(store, digest).layers().get(1);
    byte[] larger = new byte[(int) layer.size() + (1 << 20)];
    overwrite(config, layer.digest(), larger);

    assertThatThrownBy(() -> new StoreImageExporter(store).export(digest, "docker", List.of(), new ByteArrayOutputStream()))
        .isInstanceOf(IOException.class).hasMessageContaining(layer.digest().toString())
        .hasMessageContaining("not the " + layer.size() + " bytes");
  }

  @Test
  void aBlobOverThePrefetchLimitIsStreamedInItsTurn(BlobStore store) throws Exception {
    byte[] big = new byte[(int) PrefetchedBlobs.MAX_BLOB + 1];
    java.util.Arrays.fill(big, (byte) 7);
    Digest bigDigest = store.putBytes(Namespace.BLOBS, big).digest();
    byte[] small = "small".getBytes(StandardCharsets.UTF_8);
    Digest smallDigest = store.putBytes(Namespace.BLOBS, small).digest();
    List<Descriptor> parts = List.of(new Descriptor(MediaTypes.OCI_LAYER_TAR, bigDigest, big.length),
        new Descriptor(MediaTypes.OCI_LAYER_TAR, smallDigest, small.length));

    try (PrefetchedBlobs ahead = new PrefetchedBlobs(store, parts)) {
      assertThat(ahead.prefetched()).isEqualTo(1);
      assertThat(ahead.open(bigDigest).readAllBytes()).isEqualTo(big);
      assertThat(ahead.open(smallDigest).readAllBytes()).isEqualTo(small);
    }
  }
}
