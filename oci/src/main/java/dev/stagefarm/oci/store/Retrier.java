package dev.stagefarm.oci.store;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.DigestMismatchException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one S3 request, retrying transient failures per the policy, and names the request when it gives up. */
final class Retrier {

    private static final Logger log = LoggerFactory.getLogger(Retrier.class);

    /** A single S3 request; it must be safe to repeat (its input is in memory or re-openable). */
    @FunctionalInterface
    interface Request<T> {
        T run() throws Exception;
    }

    private final RetryPolicy policy;
    private final String location;

    /** @param location how error messages name the store, e.g. {@code bucket 'b' at http://…} */
    Retrier(RetryPolicy policy, String location) {
        this.policy = policy;
        this.location = location;
    }

    /**
     * Runs the request. The store's own verdicts thrown inside it ({@link BlobNotFoundException},
     * {@link DigestMismatchException}, an earlier {@link BlobStoreException}) pass through unchanged.
     */
    <T> T call(String operation, String key, Request<T> request) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return request.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BlobStoreException(operation, key,
                        "S3 " + operation + " of " + key + " in " + location + " interrupted", e, false);
            } catch (Exception e) {
                Throwable cause = S3Failures.unwrap(e);
                if (cause instanceof BlobStoreException || cause instanceof BlobNotFoundException
                        || cause instanceof DigestMismatchException) {
                    throw (IOException) cause;
                }
                boolean retriable = S3Failures.isTransient(cause);
                if (!retriable || attempt >= policy.maxAttempts()) {
                    String attempts = attempt > 1 ? " after " + attempt + " attempts" : "";
                    throw new BlobStoreException(operation, key, "S3 " + operation + " of " + key + " in " + location
                            + " failed" + attempts + ": " + S3Failures.describe(cause), cause, retriable);
                }
                var pause = policy.backoffAfter(attempt);
                log.debug("S3 {} of {} failed transiently (attempt {}), retrying in {} ms: {}",
                        operation, key, attempt, pause.toMillis(), S3Failures.describe(cause));
                sleep(pause.toMillis(), operation, key);
            }
        }
    }

    private void sleep(long millis, String operation, String key) throws BlobStoreException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BlobStoreException(operation, key,
                    "S3 " + operation + " of " + key + " in " + location + " interrupted while backing off", e, false);
        }
    }
}
