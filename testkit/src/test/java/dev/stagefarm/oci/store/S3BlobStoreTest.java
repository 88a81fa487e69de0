package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.DigestingOutputStream;
import dev.stagefarm.testkit.GeneratedContent;
import dev.stagefarm.testkit.S3Fixture;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(S3Fixture.class)
/** What only the S3 store does (one PUT or parts, retries, its bucket); what every store does: {@link BlobStoreContractTest}. */
class S3BlobStoreTest {

    private static final int MiB = 1024 * 1024;

    @Test
    void aFreshSmallBlobIsPutWithoutAHeadAndAgainOverItsOwnCopyIsHarmless(BlobStore store) throws IOException {
        byte[] content = "a layer a stage just made".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.of(content);

        assertThat(store.putFresh(Namespace.BLOBS, digest, content.length, new ByteArrayInputStream(content)))
                .isEqualTo(new StoredBlob(digest, content.length, true));
        // the same content under the same key: sent again (no HEAD asked first), the object unchanged
        assertThat(store.putFresh(Namespace.BLOBS, digest, content.length, new ByteArrayInputStream(content)))
                .isEqualTo(new StoredBlob(digest, content.length, true));
        assertThat(store.readAllBytes(Namespace.BLOBS, digest)).isEqualTo(content);
        Digest claimed = Digest.of("what was promised");
        assertThatThrownBy(() -> store.putFresh(Namespace.BLOBS, claimed, content.length,
                new ByteArrayInputStream(content))).isInstanceOf(DigestMismatchException.class);
        assertThat(containsQuietly(store, claimed)).isFalse();
    }

    @Test
    void aLayerFileItsWriterHashedGoesUpInOnePutAndReadsBackVerified(BlobStore store, S3Config config,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        GeneratedContent content = new GeneratedContent(43, 40L * MiB + 321);
        java.nio.file.Path file = dir.resolve("layer.tar");
        try (InputStream in = content.stream()) {
            java.nio.file.Files.copy(in, file);
        }

        StoredBlob stored = store.putFile(Namespace.BLOBS, content.digest(), content.size(), file);

        assertThat(stored).isEqualTo(new StoredBlob(content.digest(), content.size(), true));
        assertThat(digestOf(store.open(content.digest()))).isEqualTo(content.digest());
        // one PUT: a multipart object's ETag ends in -<parts>, a single PUT's is the MD5 of the bytes
        assertThat(etag(config, Namespace.BLOBS.key(content.digest()))).doesNotContain("-");
        // stored already: a HEAD, nothing sent
        assertThat(store.putFile(Namespace.BLOBS, content.digest(), content.size(), file).uploaded()).isFalse();
    }

    @Test
    void aLayerFileAboveTheSinglePutLimitGoesUpInVerifiedParts(S3Config config,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        GeneratedContent content = new GeneratedContent(45, 12L * MiB + 5);
        java.nio.file.Path file = dir.resolve("layer.tar");
        try (InputStream in = content.stream()) {
            java.nio.file.Files.copy(in, file);
        }
        StoreOptions options = StoreOptions.DEFAULT.withPartSize(5 * MiB, 2).withSinglePutMaxBytes(6L * MiB);
        try (BlobStore store = BlobStore.connect(config, options)) {
            Digest claimed = new GeneratedContent(46, 12L * MiB + 5).digest();
            assertThatThrownBy(() -> store.putFile(Namespace.BLOBS, claimed, content.size(), file))
                    .isInstanceOf(DigestMismatchException.class);
            assertThat(store.contains(claimed)).isFalse();

            store.putFile(Namespace.BLOBS, content.digest(), content.size(), file);

            assertThat(etag(config, Namespace.BLOBS.key(content.digest()))).endsWith("-3");
            assertThat(digestOf(store.open(content.digest()))).isEqualTo(content.digest());
        }
    }

    private static String etag(S3Config config, String key) throws Exception {
        try (io.minio.MinioAsyncClient client = io.minio.MinioAsyncClient.builder().endpoint(config.endpoint())
                .credentialsProvider(config.credentials().provider()).region(config.region()).build()) {
            return client.statObject(io.minio.StatObjectArgs.builder().bucket(config.bucket()).object(key).build())
                    .get().etag();
        }
    }

    @Test
    void openingAMissingBlobNamesTheBlobAndWhereItWasLookedFor(BlobStore store, S3Config config) {
        Digest missing = Digest.of("never stored");

        assertThatThrownBy(() -> store.open(missing))
                .isInstanceOfSatisfying(BlobNotFoundException.class, e -> assertThat(e.digest()).isEqualTo(missing))
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("s3://" + config.bucket() + "/blobs/sha256/" + missing.hex());
    }

    @Test
    void unreachableServerFailsAfterRetriesNamingOperationKeyAndBucket() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        S3Config nowhere = new S3Config("http://127.0.0.1:" + closedPort, "k", "s", "nowhere");
        RetryPolicy quick = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5));
        Digest digest = Digest.of("x");
        try (BlobStore store = BlobStore.connect(nowhere, StoreOptions.DEFAULT.withRetry(quick))) {
            assertThatThrownBy(() -> store.contains(digest))
                    .isInstanceOfSatisfying(BlobStoreException.class, e -> {
                        assertThat(e.operation()).isEqualTo("HEAD");
                        assertThat(e.key()).isEqualTo("blobs/sha256/" + digest.hex());
                        assertThat(e.transientFailure()).isTrue();
                    })
                    .hasMessageContaining("S3 HEAD of blobs/sha256/" + digest.hex())
                    .hasMessageContaining("bucket 'nowhere' at http://127.0.0.1:" + closedPort)
                    .hasMessageContaining("after 3 attempts");
        }
    }

    @Test
    void missingBucketIsAPermanentFailureNamingTheBucket() {
        var server = S3Fixture.server();
        S3Config config = new S3Config(server.endpoint(), server.accessKey(), server.secretKey(), "no-such-bucket-here");
        try (BlobStore store = BlobStore.connect(config)) {
            assertThatThrownBy(() -> store.putRecord("k", new byte[] {1}))
                    .isInstanceOfSatisfying(BlobStoreException.class, e -> assertThat(e.transientFailure()).isFalse())
                    .hasMessageContaining("NoSuchBucket")
                    .hasMessageContaining("no-such-bucket-here");
        }
    }

    private static boolean containsQuietly(BlobStore store, Digest digest) {
        try {
            return store.contains(digest);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Digest digestOf(InputStream in) throws IOException {
        try (in; DigestingOutputStream out = DigestingOutputStream.discarding()) {
            in.transferTo(out);
            return out.digest();
        }
    }
}
