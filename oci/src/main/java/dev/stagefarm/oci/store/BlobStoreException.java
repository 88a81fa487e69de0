package dev.stagefarm.oci.store;

import java.io.IOException;

/**
 * An S3 operation on the content store failed. The message names the operation, the object key and the bucket.
 * {@link #transientFailure()} tells whether the failure was of a kind that retrying may cure (it already was retried
 * as often as the store's policy allows).
 */
public class BlobStoreException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String key;
    private final boolean transientFailure;

    public BlobStoreException(String operation, String key, String message, Throwable cause, boolean transientFailure) {
        super(message, cause);
        this.operation = operation;
        this.key = key;
        this.transientFailure = transientFailure;
    }

    /** What was being done, e.g. {@code upload}, {@code HEAD}, {@code GET}. */
    public String operation() {
        return operation;
    }

    /** The object key (or prefix) it was done on. */
    public String key() {
        return key;
    }

    public boolean transientFailure() {
        return transientFailure;
    }
}
