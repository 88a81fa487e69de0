package dev.stagefarm.oci.store;

import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The farm's content store (DESIGN.md §5), content-addressed, in one key space:
 *
 * <ul>
 *   <li>{@code blobs/sha256/<hex>}: OCI blobs ({@link Namespace#BLOBS}), likewise {@code context/…} and
 *       {@code programs/…},</li>
 *   <li>{@code cache/<key>}: small instruction-cache records ({@link #putRecord}, {@link #getRecord}),</li>
 *   <li>{@code secrets/<build id>}: a build's sealed secrets ({@link #putSealed}).</li>
 * </ul>
 *
 * <p>Two implementations: {@link S3BlobStore}, one S3 bucket (every farm that spans hosts), and {@link FileBlobStore},
 * a directory (a farm on one host: the one-shot farm). Both verify content-addressed puts against their digest and
 * publish nothing that does not match, verify every whole read, and make a put visible only once it is complete.
 * Both keep records and sealed objects alike ({@code SmallObjectStore}: key checks and read limits in one place).
 * Thread-safe; share one instance.
 */
public interface BlobStore extends BlobSource, BlobSink, AutoCloseable {

    /** A store on an S3 bucket (which {@link S3BlobStore#ensureBucket} creates). */
    static S3BlobStore connect(S3Config config) {
        return S3BlobStore.connect(config, StoreOptions.DEFAULT);
    }

    static S3BlobStore connect(S3Config config, StoreOptions options) {
        return S3BlobStore.connect(config, options);
    }

    // ---- content-addressed blobs ----

    /** The stored size of a blob, or empty when it is not in the store. */
    OptionalLong size(Namespace namespace, Digest digest) throws IOException;

    /** Whether the OCI blob is in the store. */
    @Override
    default boolean contains(Digest digest) throws IOException {
        return size(Namespace.BLOBS, digest).isPresent();
    }

    default boolean exists(Namespace namespace, Digest digest) throws IOException {
        return size(namespace, digest).isPresent();
    }

    /** Stores an OCI blob (see {@link #put(Namespace, Digest, long, InputStream)}). */
    @Override
    default void put(Digest digest, long size, InputStream content) throws IOException {
        put(Namespace.BLOBS, digest, size, content);
    }

    /**
     * Stores content under its digest, unless the store already has it at that size (then {@code content} is not
     * read).
     *
     * @param size the promised size, or -1 when unknown
     * @throws dev.stagefarm.oci.DigestMismatchException when the content does not have that digest (or size);
     *     nothing is stored then
     */
    StoredBlob put(Namespace namespace, Digest digest, long size, InputStream content) throws IOException;

    /**
     * Stores a blob the caller has just made (a layer a stage produced), which is nearly always new: a store may
     * skip asking whether it has it. Verified like {@link #put(Namespace, Digest, long, InputStream)}.
     */
    StoredBlob putFresh(Namespace namespace, Digest digest, long size, InputStream content) throws IOException;

    /**
     * Stores a blob from a file this process wrote and hashed itself as it wrote it (a layer a stage produced): the
     * digest is trusted, not computed again; the size is checked against the file. The caller keeps the file (and
     * removes it when it likes: the store does not depend on it afterwards). Content from anywhere else goes through
     * {@link #put(Namespace, Digest, long, InputStream)}, which verifies it.
     *
     * @throws IOException also when the file's size is not {@code size} (it changed since it was hashed)
     */
    StoredBlob putFile(Namespace namespace, Digest digest, long size, Path file) throws IOException;

    /** Stores a small blob held in memory (a manifest, a config). */
    default StoredBlob putBytes(Namespace namespace, byte[] content) throws IOException {
        return put(namespace, Digest.of(content), content.length, new ByteArrayInputStream(content));
    }

    /** Stores content whose digest is not known before reading it all. */
    StoredBlob putComputingDigest(Namespace namespace, InputStream content) throws IOException;

    /** Opens an OCI blob (see {@link #open(Namespace, Digest)}). */
    @Override
    default InputStream open(Digest digest) throws IOException {
        return open(Namespace.BLOBS, digest);
    }

    /** Every whole read is verified ({@link #open(Namespace, Digest)}). */
    @Override
    default boolean verifiesAtEnd() {
        return true;
    }

    /**
     * Opens a blob for reading. Reading it to the end verifies its digest.
     *
     * @throws dev.stagefarm.oci.BlobNotFoundException when the store has no such blob
     */
    InputStream open(Namespace namespace, Digest digest) throws IOException;

    /**
     * Opens {@code length} bytes of a blob starting at {@code offset} (fewer when the blob ends first; not verified:
     * a range has no digest).
     *
     * @throws dev.stagefarm.oci.BlobNotFoundException when the store has no such blob
     */
    InputStream openRange(Namespace namespace, Digest digest, long offset, long length) throws IOException;

    /** Reads a whole small blob (manifest, config, context manifest) into memory, verified. */
    default byte[] readAllBytes(Namespace namespace, Digest digest) throws IOException {
        try (InputStream in = open(namespace, digest)) {
            return in.readAllBytes();
        }
    }

    /** Every digest stored in a namespace. */
    default List<Digest> listDigests(Namespace namespace) throws IOException {
        List<Digest> digests = new ArrayList<>();
        for (StoredObject object : list(namespace.prefix())) {
            String hex = object.key().substring(namespace.prefix().length());
            if (Digest.isValid(Digest.SHA256 + ":" + hex)) {
                digests.add(new Digest(hex));
            }
        }
        return digests;
    }

    /** Every object whose key starts with {@code prefix}, in key order. */
    List<StoredObject> list(String prefix) throws IOException;

    /** Removes a blob; removing one that is not there is not an error. */
    default void delete(Namespace namespace, Digest digest) throws IOException {
        deleteObject(namespace.key(digest));
    }

    /** Removes the object under a full key as listed by {@link #list}; one that is not there is no error. */
    void deleteObject(String key) throws IOException;

    // ---- cache records: small objects under cache/<key> ----

    /** Writes (or overwrites) the record stored under {@code cache/<key>}. */
    void putRecord(String key, byte[] content) throws IOException;

    /** The record stored under {@code cache/<key>}, or empty when there is none. */
    Optional<byte[]> getRecord(String key) throws IOException;

    // ---- sealed objects: a build's encrypted secrets, deleted when the build ends ----

    /** Writes (or overwrites) a sealed object, e.g. {@code secrets/<build id>}. */
    void putSealed(String key, byte[] content) throws IOException;

    /**
     * A sealed object, or empty when there is none; at most {@code maxBytes} are read.
     *
     * @throws IOException also when the object is larger than {@code maxBytes}
     */
    Optional<byte[]> getSealed(String key, int maxBytes) throws IOException;

    /** Removes a sealed object; removing one that is not there is not an error. */
    void deleteSealed(String key) throws IOException;

    /** Releases the store's connections and threads (none for a directory). */
    @Override
    void close();
}
