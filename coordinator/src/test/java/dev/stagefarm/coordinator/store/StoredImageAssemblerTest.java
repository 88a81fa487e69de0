package dev.stagefarm.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.ImageAssembler;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.StoredBlob;
import dev.stagefarm.testkit.S3Fixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Assembly against the real (embedded) S3 store, its requests counted. */
@ExtendWith(S3Fixture.class)
class StoredImageAssemblerTest {
  /** Counts what the assembler asks of the store. */
  static final class Counting implements StoredImageAssembler.Blobs {
    final StoredImageAssembler.Blobs store;
    final AtomicInteger puts = new AtomicInteger();
    final AtomicInteger heads = new AtomicInteger();

    Counting(BlobStore store) {
      this.store = StoredImageAssembler.Blobs.of(store);
    }

    @Override
    public StoredBlob putBytes(byte[] content) throws IOException {
      puts.incrementAndGet();
      return store.putBytes(content);
    }

    @Override
    public boolean contains(Digest digest) throws IOException {
      heads.incrementAndGet();
      return store.contains(digest);
    }

    int requests() {
      return puts.get() + heads.get();
    }
  }

  static StageResult target(BlobStore store, int layerCount) throws IOException {
    List<LayerRef> layers = new ArrayList<>();
    for (int i = 0; i < layerCount; i++) {
      StoredBlob blob = store.putBytes(Namespace.BLOBS, ("layer " + i + " " + System.nanoTime()).getBytes(StandardCharsets.UTF_8));
      layers.add(new LayerRef(new Descriptor(MediaTypes.OCI_LAYER_TAR, blob.digest(), blob.size()), blob.digest()));
    }
    ImageConfig config = ImageConfig.scratch(Platform.LINUX_AMD64);
    return new StageResult(layers, ImageJson.writeConfig(config), "stage:final");
  }

  static final ImageAssembler.Request REQUEST = new ImageAssembler.Request(List.of(), false, Map.of(), Map.of());

  @Test
  void reassemblingTheSameImageAsksTheStoreOnceForItsManifest(BlobStore blobs) throws Exception {
    Counting store = new Counting(blobs);
    StoredImageAssembler assembler = new StoredImageAssembler(store, StoredImageAssembler.ImagePusher.UNSUPPORTED);
    StageResult target = target(blobs, 8);

    ImageAssembler.Assembled first = assembler.assemble(target, REQUEST);
    // config and manifest put (each a HEAD, then the upload), every layer checked
    assertThat(store.puts).hasValue(2);
    assertThat(store.heads).hasValue(8);
    assertThat(blobs.contains(Digest.parse(first.manifestDigest()))).isTrue();
    assertThat(blobs.contains(Digest.parse(first.configDigest()))).isTrue();

    int before = store.requests();
    ImageAssembler.Assembled again = assembler.assemble(target, REQUEST);
    assertThat(again).isEqualTo(first);
    assertThat(store.requests() - before).isEqualTo(1); // the manifest's HEAD
  }

  @Test
  void anImageAssembledBeforeButGoneFromTheStoreIsStoredAgain(BlobStore blobs) throws Exception {
    Counting store = new Counting(blobs);
    StoredImageAssembler assembler = new StoredImageAssembler(store, StoredImageAssembler.ImagePusher.UNSUPPORTED);
    StageResult target = target(blobs, 2);
    ImageAssembler.Assembled first = assembler.assemble(target, REQUEST);
    blobs.delete(Namespace.BLOBS, Digest.parse(first.manifestDigest())); // a prune, say

    assertThat(assembler.assemble(target, REQUEST)).isEqualTo(first);
    assertThat(blobs.contains(Digest.parse(first.manifestDigest()))).isTrue();
  }

  @Test
  void anotherAssemblerInstanceChecksEverything(BlobStore blobs) throws Exception {
    // what it did not store itself (another coordinator, a base image's manifest) it does not take on trust
    StageResult target = target(blobs, 3);
    new StoredImageAssembler(blobs, StoredImageAssembler.ImagePusher.UNSUPPORTED).assemble(target, REQUEST);
    Counting store = new Counting(blobs);
    new StoredImageAssembler(store, StoredImageAssembler.ImagePusher.UNSUPPORTED).assemble(target, REQUEST);
    assertThat(store.heads).hasValue(3);
    assertThat(store.puts).hasValue(2);
  }

  @Test
  void aMissingLayerFailsTheAssemblyEvenForAnImageAssembledBefore(BlobStore blobs) throws Exception {
    StoredImageAssembler assembler = new StoredImageAssembler(blobs, StoredImageAssembler.ImagePusher.UNSUPPORTED);
    StageResult target = target(blobs, 2);
    ImageAssembler.Assembled first = assembler.assemble(target, REQUEST);
    blobs.delete(Namespace.BLOBS, Digest.parse(first.manifestDigest()));
    blobs.delete(Namespace.BLOBS, target.layers().get(1).blob().digest());

    assertThatThrownBy(() -> assembler.assemble(target, REQUEST))
        .hasMessageContaining("layer " + target.layers().get(1).blob().digest() + " of the image is missing");
  }
}
