package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingInputStream;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The byte limit while the manifest streams in, when the store does not tell its size beforehand (or tells a wrong
 * one): a manifest of exactly the limit is read, one byte more is refused naming the limit — also when the limit
 * falls inside an entry, where the protobuf parser would report a stream error as a malformed entry.
 */
class ContextManifestsTest {
  private final InMemoryContentStore memory = new InMemoryContentStore();
  /** What was opened, counting the bytes read from the store. */
  private final List<DigestingInputStream> opened = new ArrayList<>();
  /** The attack: a store that claims nothing about the size, so only the streaming limit stands. */
  private final ContentStore sizeless = new SizelessStore();

  @Test
  void aManifestOfExactlyTheByteLimitIsRead() throws IOException {
    byte[] bytes = manifest(5).toByteArray();
    Digest digest = memory.putBytes(Namespace.CONTEXT, bytes);

    ContextManifest read = ContextManifests.read(sizeless, digest, new ContextManifests.Limits(100, bytes.length));

    assertThat(read).isEqualTo(manifest(5));
  }

  @Test
  void aManifestOneByteOverTheLimitIsRefusedNamingTheLimit() throws IOException {
    byte[] bytes = manifest(5).toByteArray();
    Digest digest = memory.putBytes(Namespace.CONTEXT, bytes);
    ContextManifests.Limits limits = new ContextManifests.Limits(100, bytes.length - 1);

    assertThatThrownBy(() -> ContextManifests.read(sizeless, digest, limits))
        .isInstanceOf(ContextManifests.TooLarge.class)
        .hasMessage("the context manifest is larger than " + (bytes.length - 1)
            + " bytes, over the limit max-context-manifest-size = " + (bytes.length - 1) + " bytes");
  }

  @Test
  void aLimitInsideAnEntryIsTheLimitNotAMalformedManifestAndTheRestIsNotRead() throws IOException {
    byte[] bytes = manifest(50).toByteArray(); // ~1 kB an entry
    Digest digest = memory.putBytes(Namespace.CONTEXT, bytes);
    ContextManifests.Limits limits = new ContextManifests.Limits(100, 10_500);

    assertThatThrownBy(() -> ContextManifests.read(sizeless, digest, limits))
        .isInstanceOf(ContextManifests.TooLarge.class)
        .hasMessageContaining("over the limit max-context-manifest-size = 10500 bytes");
    assertThat(opened).singleElement().extracting(DigestingInputStream::count).as("read of %d bytes", bytes.length)
        .isEqualTo(10_501L); // the limit and the one byte that tells it was passed
  }

  private static ContextManifest manifest(int entries) {
    ContextManifest.Builder manifest = ContextManifest.newBuilder().setSchemaVersion(1);
    for (int i = 0; i < entries; i++) {
      String path = "f" + i + "-" + "x".repeat(1000);
      manifest.addEntries(ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.FILE).setMode(0644)
          .setDigest(Digest.of(path).toString()).setSize(1));
    }
    return manifest.build();
  }

  /** The in-memory store, but it knows no sizes. */
  private final class SizelessStore implements ContentStore {
    @Override
    public boolean contains(Namespace namespace, Digest digest) {
      return memory.contains(namespace, digest);
    }

    @Override
    public void put(Namespace namespace, Digest digest, long size, InputStream content) throws IOException {
      memory.put(namespace, digest, size, content);
    }

    @Override
    public Digest putBytes(Namespace namespace, byte[] content) {
      return memory.putBytes(namespace, content);
    }

    @Override
    public OptionalLong size(Namespace namespace, Digest digest) {
      return OptionalLong.empty();
    }

    @Override
    public InputStream open(Namespace namespace, Digest digest) throws IOException {
      DigestingInputStream counting = new DigestingInputStream(memory.open(namespace, digest));
      opened.add(counting);
      return counting;
    }

    @Override
    public byte[] read(Namespace namespace, Digest digest) throws IOException {
      return memory.read(namespace, digest);
    }
  }
}
