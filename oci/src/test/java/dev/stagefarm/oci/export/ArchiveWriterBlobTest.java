package dev.stagefarm.oci.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob streamed into an archive is checked once: from a store whose reads verify themselves (a real
 * directory store) by reading it to its end, from any other source by hashing it here; either way a
 * blob whose bytes are not its digest's, or that is longer than promised, fails the archive naming it.
 */
class ArchiveWriterBlobTest {
  @TempDir Path dir;

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static byte[] archived(FileBlobStore store, Digest digest, long size) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ArchiveWriter tar = new ArchiveWriter(out)) {
      tar.blob("blob", store, digest, size);
    }
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(out.toByteArray()))) {
      assertThat(in.getNextEntry().getName()).isEqualTo("blob");
      return in.readAllBytes();
    }
  }

  @Test
  void aStoresBlobIsArchivedAsStoredAndAlteredOrLongerBytesFailNamingIt() throws Exception {
    byte[] layer = random(5 << 20);
    try (FileBlobStore store = FileBlobStore.open(dir.resolve("store"))) {
      assertThat(store.verifiesAtEnd()).isTrue();
      Digest digest = store.putBytes(Namespace.BLOBS, layer).digest();
      assertThat(archived(store, digest, layer.length)).isEqualTo(layer);

      Path file = dir.resolve("store").resolve(Namespace.BLOBS.key(digest));
      byte[] altered = layer.clone();
      altered[3 << 20] ^= 1; // one bit, the same size: only the digest tells
      Files.write(file, altered);
      assertThatThrownBy(() -> archived(store, digest, layer.length))
          .isInstanceOf(DigestMismatchException.class).hasMessageContaining(digest.hex());

      byte[] longer = java.util.Arrays.copyOf(layer, layer.length + 1);
      Files.write(file, longer);
      assertThatThrownBy(() -> archived(store, digest, layer.length))
          .isInstanceOf(IOException.class).hasMessageContaining(digest.toString())
          .hasMessageContaining("more than the " + layer.length + " bytes");
    }
  }

  @Test
  void aSourceThatDoesNotVerifyItselfIsHashedHere() throws Exception {
    byte[] layer = random(1 << 20);
    Digest digest = Digest.of(layer);
    byte[] altered = layer.clone();
    altered[7] ^= 1;
    ArchiveWriter tar = new ArchiveWriter(new ByteArrayOutputStream()); // not closed: its entry is left open
    assertThatThrownBy(() -> tar.blob("blob", d -> new ByteArrayInputStream(altered), digest, layer.length))
        .isInstanceOf(DigestMismatchException.class).hasMessageContaining(digest.hex());
  }
}
