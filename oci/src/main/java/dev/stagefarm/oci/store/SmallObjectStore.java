package dev.stagefarm.oci.store;

import java.io.IOException;
import java.util.Optional;

/**
 * What every {@link BlobStore} does alike with its small objects: cache records ({@code cache/<key>}) and sealed
 * objects ({@code secrets/<id>}) are written whole and read whole up to a limit, under keys {@link StoreKeys} checked.
 * An implementation gives the three primitives on a checked object key; the limit is enforced here, once.
 *
 * <p>Package-private on purpose: the primitives take any object key, and only the store's own methods may name one.
 */
abstract sealed class SmallObjectStore implements BlobStore permits FileBlobStore, S3BlobStore {

    /** Writes (or overwrites) the small object under {@code objectKey} in one step: a reader sees it whole or not. */
    abstract void putSmall(String objectKey, byte[] content) throws IOException;

    /**
     * The first {@code atMostBytes} bytes of the object under {@code objectKey} (all of it when shorter), or empty
     * when there is none.
     */
    abstract Optional<byte[]> readSmall(String objectKey, int atMostBytes) throws IOException;

    /** Where {@code objectKey} is, for errors: the bucket or directory with the key. */
    abstract String describe(String objectKey);

    @Override
    public final void putRecord(String key, byte[] content) throws IOException {
        putSmall(StoreKeys.record(key), content);
    }

    @Override
    public final Optional<byte[]> getRecord(String key) throws IOException {
        return getSmall(StoreKeys.record(key), StoreKeys.RECORD_MAX_BYTES);
    }

    @Override
    public final void putSealed(String key, byte[] content) throws IOException {
        putSmall(StoreKeys.sealed(key), content);
    }

    @Override
    public final Optional<byte[]> getSealed(String key, int maxBytes) throws IOException {
        return getSmall(StoreKeys.sealed(key), maxBytes);
    }

    @Override
    public final void deleteSealed(String key) throws IOException {
        deleteObject(StoreKeys.sealed(key));
    }

    /** A small object, or empty when there is none; refused, naming it and the limit, when over {@code maxBytes}. */
    private Optional<byte[]> getSmall(String objectKey, int maxBytes) throws IOException {
        // one byte more than allowed tells an object at the limit from one over it
        Optional<byte[]> content = readSmall(objectKey, maxBytes == Integer.MAX_VALUE ? maxBytes : maxBytes + 1);
        if (content.isPresent() && content.get().length > maxBytes) {
            throw new IOException(describe(objectKey) + " is larger than " + maxBytes + " bytes");
        }
        return content;
    }
}
