package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.ServerException;
import io.minio.messages.ErrorResponse;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class S3FailuresTest {

    private static ErrorResponseException s3Error(String code) {
        int status = switch (code) {
            case "NoSuchKey", "NoSuchBucket" -> 404;
            case "AccessDenied", "SignatureDoesNotMatch" -> 403;
            case "SlowDown" -> 503;
            default -> 500;
        };
        okhttp3.Response response = new okhttp3.Response.Builder()
                .request(new okhttp3.Request.Builder().url("http://127.0.0.1:1/b/k").build())
                .protocol(okhttp3.Protocol.HTTP_1_1).code(status).message("status " + status).build();
        return new ErrorResponseException(new ErrorResponse(code, "msg", "b", "k", "/b/k", "r", "h"), response, "");
    }

    @Test
    void networkFaultsServerErrorsAndThrottlingAreTransient() {
        assertThat(S3Failures.isTransient(new ConnectException("refused"))).isTrue();
        assertThat(S3Failures.isTransient(new CompletionException(new ExecutionException(new IOException("reset")))))
                .isTrue();
        assertThat(S3Failures.isTransient(s3Error("SlowDown"))).isTrue();
        assertThat(S3Failures.isTransient(s3Error("InternalError"))).isTrue();
        // A body damaged in transit fails its CRC32C at the server; our copy is intact, so send it again.
        assertThat(S3Failures.isTransient(s3Error("BadDigest"))).isTrue();
        assertThat(S3Failures.isTransient(new ServerException("bad gateway", 502, ""))).isTrue();
        assertThat(S3Failures.isTransient(new ServerException("too many", 429, ""))).isTrue();
    }

    @Test
    void refusalsAndVerdictsArePermanent() {
        assertThat(S3Failures.isTransient(s3Error("AccessDenied"))).isFalse();
        assertThat(S3Failures.isTransient(s3Error("NoSuchBucket"))).isFalse();
        assertThat(S3Failures.isTransient(s3Error("SignatureDoesNotMatch"))).isFalse();
        assertThat(S3Failures.isTransient(new ServerException("bad request", 400, ""))).isFalse();
        assertThat(S3Failures.isTransient(new IllegalArgumentException("bad key"))).isFalse();
        Digest d = Digest.of("x");
        assertThat(S3Failures.isTransient(new DigestMismatchException(d, d, "x"))).isFalse();
        assertThat(S3Failures.isTransient(new BlobNotFoundException(d, "here"))).isFalse();
    }

    @Test
    void notFoundIsTheObjectMissingNotTheBucket() {
        assertThat(S3Failures.isNotFound(new CompletionException(s3Error("NoSuchKey")))).isTrue();
        assertThat(S3Failures.isNotFound(s3Error("NoSuchBucket"))).isFalse();
        assertThat(S3Failures.isNoSuchBucket(s3Error("NoSuchBucket"))).isTrue();
        assertThat(S3Failures.describe(s3Error("AccessDenied"))).isEqualTo("HTTP 403 AccessDenied: msg");
    }

    @Test
    void backoffGrowsAndIsCapped() {
        RetryPolicy policy = new RetryPolicy(10, Duration.ofMillis(100), Duration.ofMillis(1000));
        for (int attempt = 1; attempt <= 9; attempt++) {
            long cap = Math.min(100L << (attempt - 1), 1000);
            assertThat(policy.backoffAfter(attempt).toMillis()).isBetween(cap / 2, cap);
        }
    }
}
