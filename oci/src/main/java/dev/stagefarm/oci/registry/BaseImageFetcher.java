package dev.stagefarm.oci.registry;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Brings a base image into the content store: resolves the reference for a platform, then copies the manifest, the
 * config and every layer the store does not have yet (checked with a HEAD on the store first). Layers a farm already
 * holds are never asked of the registry again, so a registry sees each layer once per farm.
 */
public final class BaseImageFetcher {

    /** The outcome of a fetch. */
    public record FetchedImage(ResolvedImage image, int blobsCopied, long bytesCopied) {

        public Digest manifestDigest() {
            return image.manifestDigest();
        }

        public ImageManifest manifest() {
            return image.parsed();
        }
    }

    private final RegistryClient registry;
    private final BlobStore store;
    private final int parallelLayers;

    public BaseImageFetcher(RegistryClient registry, BlobStore store) {
        this(registry, store, 3);
    }

    public BaseImageFetcher(RegistryClient registry, BlobStore store, int parallelLayers) {
        if (parallelLayers < 1) {
            throw new IllegalArgumentException("parallelLayers must be at least 1, got " + parallelLayers);
        }
        this.registry = registry;
        this.store = store;
        this.parallelLayers = parallelLayers;
    }

    /**
     * Resolves {@code ref} for {@code platform} and makes sure its manifest, config and layers are in the store's
     * {@code blobs/} namespace.
     */
    public FetchedImage fetch(ImageReference ref, Platform platform) throws IOException {
        ResolvedImage image = registry.resolve(ref, platform);
        store.putBytes(Namespace.BLOBS, image.manifest().bytes());
        List<Descriptor> blobs = new ArrayList<>();
        blobs.add(image.parsed().config());
        image.parsed().layers().stream().filter(l -> !MediaTypes.isForeignLayer(l.mediaType())).forEach(blobs::add);

        int copied = 0;
        long bytes = 0;
        try (ExecutorService pool = Executors.newFixedThreadPool(parallelLayers, Thread.ofVirtual().factory())) {
            List<Future<Long>> copies = new ArrayList<>();
            for (Descriptor blob : blobs) {
                copies.add(pool.submit(() -> copyIfMissing(ref, blob)));
            }
            for (int i = 0; i < copies.size(); i++) {
                long n = await(copies.get(i), ref, blobs.get(i));
                if (n >= 0) {
                    copied++;
                    bytes += n;
                }
            }
        }
        return new FetchedImage(image, copied, bytes);
    }

    /** @return bytes copied, or -1 when the store already had the blob */
    private long copyIfMissing(ImageReference ref, Descriptor blob) throws IOException {
        if (store.contains(blob.digest())) {
            return -1;
        }
        try (InputStream in = registry.openBlob(ref, blob.digest())) {
            return store.put(Namespace.BLOBS, blob.digest(), blob.size(), in).size();
        }
    }

    private static long await(Future<Long> copy, ImageReference ref, Descriptor blob) throws IOException {
        try {
            return copy.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("copying " + blob + " of " + ref + " into the store failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted fetching " + ref);
        }
    }
}
