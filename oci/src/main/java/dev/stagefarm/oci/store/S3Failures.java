package dev.stagefarm.oci.store;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.DigestMismatchException;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.InvalidResponseException;
import io.minio.errors.ServerException;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Classifies what the MinIO client throws: the one place that decides what is worth retrying. */
final class S3Failures {

    /**
     * S3 error codes that mean "the server is busy or hiccupped, try again". BadDigest is among them because every
     * body we send carries a CRC32C of bytes we still hold, already checked against the blob's digest: a mismatch at
     * the server means the request was damaged on the way, and sending it again is the fix.
     */
    private static final Set<String> TRANSIENT_CODES = Set.of(
            "InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout", "OperationAborted",
            "ServiceError", "XMinioServerNotInitialized", "BadDigest");
    private static final Set<String> NOT_FOUND_CODES = Set.of("NoSuchKey", "NoSuchObject", "NotFound");

    private S3Failures() {
    }

    /** The failure a future carried, without the executor's wrapping. */
    static Throwable unwrap(Throwable t) {
        Throwable current = t;
        while ((current instanceof CompletionException || current instanceof ExecutionException)
                && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    /** Whether retrying the same request may succeed: network faults, 5xx, 429, throttling codes. */
    static boolean isTransient(Throwable failure) {
        Throwable t = unwrap(failure);
        return switch (t) {
            case DigestMismatchException ignored -> false;
            case BlobNotFoundException ignored -> false;
            case ErrorResponseException e -> TRANSIENT_CODES.contains(e.errorResponse().code())
                    || isTransientStatus(e.response() == null ? 0 : e.response().code());
            case ServerException e -> isTransientStatus(e.statusCode());
            // A non-S3 answer (an HTML error page from a proxy in between) is usually a passing state.
            case InvalidResponseException ignored -> true;
            case IOException ignored -> true;
            default -> t.getCause() != null && t.getCause() != t && isTransient(t.getCause());
        };
    }

    private static boolean isTransientStatus(int status) {
        return status == 429 || status >= 500;
    }

    /** Whether the server said the object does not exist. */
    static boolean isNotFound(Throwable failure) {
        Throwable t = unwrap(failure);
        return t instanceof ErrorResponseException e
                && (NOT_FOUND_CODES.contains(e.errorResponse().code())
                    || (e.response() != null && e.response().code() == 404 && !"NoSuchBucket".equals(e.errorResponse().code())));
    }

    /** Whether the server said the bucket does not exist. */
    static boolean isNoSuchBucket(Throwable failure) {
        return unwrap(failure) instanceof ErrorResponseException e && "NoSuchBucket".equals(e.errorResponse().code());
    }

    /** A one-line description of the failure for an error message: the S3 code and message, or the exception. */
    static String describe(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof ErrorResponseException e) {
            String status = e.response() == null ? "" : "HTTP " + e.response().code() + " ";
            return status + e.errorResponse().code() + ": " + e.errorResponse().message();
        }
        String message = t.getMessage();
        String name = t.getClass().getSimpleName();
        return message == null || message.isBlank() ? name : name + ": " + message;
    }
}
