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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob streamed into an archive is checked once: from a store whose reads verify themselves (a real
 * directory store) by reading it to its end, from any other source by hashing it here; either way a
 * blob whose bytes are not its digest's, or that is longer than promised, fails the archive naming it.
 * Written to a file, a stored blob is copied by the kernel and verified where it landed: the same
 * archive, byte for byte, and the same failures.
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

  /** The same entries through both writers: a stream, and a file (blobs copied by the kernel when the source has files). */
  private interface Entries {
    void write(ArchiveWriter tar) throws IOException;
  }

  private static byte[] streamed(Entries entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ArchiveWriter tar = new ArchiveWriter(out)) {
      entries.write(tar);
    }
    return out.toByteArray();
  }

  private byte[] filed(Entries entries) throws IOException {
    Path archive = dir.resolve("archive.tar");
    try (FileChannel file = FileChannel.open(archive, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      file.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3})); // the writer starts at the channel's position
      try (ArchiveWriter tar = new ArchiveWriter(file)) {
        entries.write(tar);
      }
    }
    byte[] bytes = Files.readAllBytes(archive);
    assertThat(java.util.Arrays.copyOf(bytes, 3)).isEqualTo(new byte[] {1, 2, 3});
    return java.util.Arrays.copyOfRange(bytes, 3, bytes.length);
  }

  @Test
  void aFileArchiveIsTheStreamedArchiveByteForByte() throws Exception {
    byte[] big = random((3 << 20) + 17); // not a whole number of records
    byte[] small = random(700);
    try (FileBlobStore store = FileBlobStore.open(dir.resolve("store"))) {
      Digest bigDigest = store.putBytes(Namespace.BLOBS, big).digest();
      Digest smallDigest = store.putBytes(Namespace.BLOBS, small).digest();
      assertThat(store.openFile(bigDigest)).as("the store has its blobs as files").isNotNull().satisfies(c -> c.close());
      Entries entries = tar -> {
        tar.bytes("oci-layout", "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        tar.directory("blobs");
        tar.directory("blobs/sha256");
        tar.blob("blobs/sha256/" + bigDigest.hex(), store, bigDigest, big.length); // the kernel's copy
        tar.blob("blobs/sha256/" + smallDigest.hex(), d -> new ByteArrayInputStream(small), smallDigest,
            small.length); // a source without files: streamed into the file
        tar.bytes("a/" + "long-name-".repeat(20), new byte[0]); // a PAX header
        tar.blob("blobs/sha256/" + bigDigest.hex(), store, bigDigest, big.length); // a second time: not written
      };
      byte[] streamed = streamed(entries);
      assertThat(filed(entries)).isEqualTo(streamed);
      try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(streamed))) {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
          names.add(e.getName());
          if (e.getName().endsWith(bigDigest.hex())) {
            assertThat(in.readAllBytes()).isEqualTo(big);
          }
        }
        assertThat(names).hasSize(6);
      }
    }
  }

  @Test
  void aFileArchiveFailsOnAStoredBlobAlteredShorterOrLongerNamingIt() throws Exception {
    byte[] layer = random(2 << 20);
    try (FileBlobStore store = FileBlobStore.open(dir.resolve("store"))) {
      Digest digest = store.putBytes(Namespace.BLOBS, layer).digest();
      Entries entries = tar -> tar.blob("blob", store, digest, layer.length);
      Path file = dir.resolve("store").resolve(Namespace.BLOBS.key(digest));

      byte[] altered = layer.clone();
      altered[1 << 20] ^= 1; // one bit, the same size: only the digest of the copy tells
      Files.write(file, altered);
      assertThatThrownBy(() -> filed(entries))
          .isInstanceOf(DigestMismatchException.class).hasMessageContaining(digest.hex());

      Files.write(file, java.util.Arrays.copyOf(layer, layer.length + 1));
      assertThatThrownBy(() -> filed(entries)).isInstanceOf(IOException.class)
          .hasMessageContaining(digest.toString()).hasMessageContaining("more than the " + layer.length + " bytes");

      Files.write(file, java.util.Arrays.copyOf(layer, layer.length - 1));
      assertThatThrownBy(() -> filed(entries)).isInstanceOf(IOException.class)
          .hasMessageContaining(digest.toString()).hasMessageContaining("ended after " + (layer.length - 1));

      Files.write(file, layer); // mended: archived as stored
      assertThat(filed(entries)).isEqualTo(streamed(entries));
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
