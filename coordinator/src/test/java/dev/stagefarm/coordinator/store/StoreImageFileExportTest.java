package dev.stagefarm.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.ImageAssembler;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.StoredBlob;
import dev.stagefarm.coordinator.content.LayerRef;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image exported into a file from a directory store (the one-shot's CLI and farm in one process): its large
 * layers copied by the kernel and verified where they landed. The file holds what the streamed export sends, byte
 * for byte, in both formats; a layer altered in the store fails it naming the layer; a destination that is not a
 * regular file is streamed to.
 */
class StoreImageFileExportTest {
  @TempDir Path dir;

  /** An image of a large layer (over the prefetch limit: copied by the kernel) and a small one (read ahead). */
  private static String storedImage(FileBlobStore store, byte[] large) throws Exception {
    StoredBlob big = store.putBytes(Namespace.BLOBS, large);
    StoredBlob small = store.putBytes(Namespace.BLOBS, "small".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    List<LayerRef> layers = List.of(
        new LayerRef(new Descriptor(MediaTypes.OCI_LAYER_TAR, big.digest(), big.size()), big.digest()),
        new LayerRef(new Descriptor(MediaTypes.OCI_LAYER_TAR, small.digest(), small.size()), small.digest()));
    StageResult target = new StageResult(layers, ImageJson.writeConfig(ImageConfig.scratch(Platform.LINUX_AMD64)),
        "stage:final");
    return new StoredImageAssembler(store, StoredImageAssembler.ImagePusher.UNSUPPORTED)
        .assemble(target, new ImageAssembler.Request(List.of(), false, Map.of(), Map.of())).manifestDigest();
  }

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  @Test
  void theFileHoldsTheStreamedArchiveInBothFormats() throws Exception {
    byte[] large = random((int) PrefetchedBlobs.MAX_BLOB + 4099);
    try (FileBlobStore store = FileBlobStore.open(dir.resolve("store"))) {
      String digest = storedImage(store, large);
      StoreImageExporter exporter = new StoreImageExporter(store);
      for (String format : List.of("oci", "docker")) {
        ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        exporter.export(digest, format, List.of("example/app:1"), streamed);
        Path file = dir.resolve(format + ".tar");
        Files.write(file, new byte[50 << 20]); // a longer file already there: truncated
        exporter.exportToFile(digest, format, List.of("example/app:1"), file);
        assertThat(Files.readAllBytes(file)).as(format).isEqualTo(streamed.toByteArray());
        Map<String, byte[]> entries = StoreImageExporterTest.entries(Files.readAllBytes(file));
        assertThat(entries).containsKey("blobs/sha256/" + dev.stagefarm.oci.Digest.of(large).hex());
      }
    }
  }

  @Test
  void aLargeLayerAlteredInTheStoreFailsTheFileExportNamingIt() throws Exception {
    byte[] large = random((int) PrefetchedBlobs.MAX_BLOB + 1);
    try (FileBlobStore store = FileBlobStore.open(dir.resolve("store"))) {
      String digest = storedImage(store, large);
      byte[] altered = large.clone();
      altered[large.length / 2] ^= 1;
      Files.write(dir.resolve("store").resolve(Namespace.BLOBS.key(dev.stagefarm.oci.Digest.of(large))), altered);

      assertThatThrownBy(() -> new StoreImageExporter(store).exportToFile(digest, "oci", List.of(),
          dir.resolve("image.tar")))
          .isInstanceOf(DigestMismatchException.class).hasMessageContaining(dev.stagefarm.oci.Digest.of(large).hex());
    }
  }

  @Test
  void aDestinationThatIsNotARegularFileIsStreamedTo() throws Exception {
    byte[] large = random((int) PrefetchedBlobs.MAX_BLOB + 1);
    try (FileBlobStore store = FileBlobStore.open(dir.resolve("store"))) {
      String digest = storedImage(store, large);
      // /dev/null takes writes but cannot be read back: the kernel's copy and its check need a regular file
      new StoreImageExporter(store).exportToFile(digest, "oci", List.of(), Path.of("/dev/null"));
    }
  }
}
