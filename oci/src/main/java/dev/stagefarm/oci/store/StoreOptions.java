package dev.stagefarm.oci.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Tuning of the content store client.
 *
 * @param partSize bytes per multipart part (S3 requires at least 5 MiB); content up to this size goes up in one PUT
 * @param partsInFlight how many parts of one upload are buffered or sending at once; memory per upload is about
 *     {@code partSize * partsInFlight}
 * @param spoolDir where content whose digest is only known after reading it is staged before upload
 * @param unsignedPayloadOverPlainHttp send upload bodies as {@code UNSIGNED-PAYLOAD} (with a CRC32C) even to a plain
 *     HTTP endpoint that is not loopback. Off by default: there the SDK's payload signature is what stops a body
 *     altered on the network from being stored (readers would still refuse it by its digest). Turn it on for a
 *     trusted network to save two SHA-256 passes per byte. Loopback and HTTPS endpoints always get unsigned payloads.
 * @param singlePutMaxBytes the largest file {@link BlobStore#putFile} sends in one PUT streamed from the file (larger
 *     ones go as a multipart upload): one PUT is written once by the store, a multipart upload's parts are written and
 *     then assembled (S3Proxy's filesystem store reads and writes the whole object again). At most 5 GiB, S3's limit
 *     for one PUT.
 */
public record StoreOptions(RetryPolicy retry, int partSize, int partsInFlight, Path spoolDir,
                           boolean unsignedPayloadOverPlainHttp, long singlePutMaxBytes) {

    /** S3's limit for the object of one PUT. */
    public static final long MAX_SINGLE_PUT_BYTES = 5L * 1024 * 1024 * 1024;

    public static final int MIN_PART_SIZE = 5 * 1024 * 1024;
    public static final StoreOptions DEFAULT = new StoreOptions(RetryPolicy.DEFAULT, 16 * 1024 * 1024, 4,
            Path.of(System.getProperty("java.io.tmpdir")), false, MAX_SINGLE_PUT_BYTES);

    public StoreOptions(RetryPolicy retry, int partSize, int partsInFlight, Path spoolDir,
                        boolean unsignedPayloadOverPlainHttp) {
        this(retry, partSize, partsInFlight, spoolDir, unsignedPayloadOverPlainHttp, MAX_SINGLE_PUT_BYTES);
    }

    public StoreOptions {
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(spoolDir, "spoolDir");
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("partSize must be at least 5 MiB (an S3 limit), got " + partSize);
        }
        if (partsInFlight < 1) {
            throw new IllegalArgumentException("partsInFlight must be at least 1, got " + partsInFlight);
        }
        if (singlePutMaxBytes < 0 || singlePutMaxBytes > MAX_SINGLE_PUT_BYTES) {
            throw new IllegalArgumentException("singlePutMaxBytes must be between 0 and 5 GiB (an S3 limit), got "
                    + singlePutMaxBytes);
        }
    }

    public StoreOptions withRetry(RetryPolicy newRetry) {
        return new StoreOptions(newRetry, partSize, partsInFlight, spoolDir, unsignedPayloadOverPlainHttp, singlePutMaxBytes);
    }

    public StoreOptions withPartSize(int newPartSize, int newPartsInFlight) {
        return new StoreOptions(retry, newPartSize, newPartsInFlight, spoolDir, unsignedPayloadOverPlainHttp,
                singlePutMaxBytes);
    }

    public StoreOptions withSpoolDir(Path newSpoolDir) {
        return new StoreOptions(retry, partSize, partsInFlight, newSpoolDir, unsignedPayloadOverPlainHttp, singlePutMaxBytes);
    }

    public StoreOptions withUnsignedPayloadOverPlainHttp(boolean unsigned) {
        return new StoreOptions(retry, partSize, partsInFlight, spoolDir, unsigned, singlePutMaxBytes);
    }

    public StoreOptions withSinglePutMaxBytes(long maxBytes) {
        return new StoreOptions(retry, partSize, partsInFlight, spoolDir, unsignedPayloadOverPlainHttp, maxBytes);
    }
}
