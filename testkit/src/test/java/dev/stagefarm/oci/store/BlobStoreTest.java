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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(S3Fixture.class)
class BlobStoreTest {

    private static final int MiB = 1024 * 1024;

    @Test
    void smallBlobRoundTripsUnderItsContentAddress(BlobStore store) throws IOException {
        byte[] content = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.of(content);
        assertThat(store.contains(digest)).isFalse();

        StoredBlob stored = store.putBytes(Namespace.BLOBS, content);

        assertThat(stored).isEqualTo(new StoredBlob(digest, content.length, true));
        assertThat(store.contains(digest)).isTrue();
        assertThat(store.size(Namespace.BLOBS, digest)).hasValue(content.length);
        assertThat(store.readAllBytes(Namespace.BLOBS, digest)).isEqualTo(content);
        assertThat(store.list("blobs/sha256/")).extracting(StoredObject::key, StoredObject::size)
                .contains(org.assertj.core.groups.Tuple.tuple("blobs/sha256/" + digest.hex(), (long) content.length));
        // The context namespace is a separate key space.
        assertThat(store.exists(Namespace.CONTEXT, digest)).isFalse();
    }

    @Test
    void secondPutOfAStoredDigestSendsNothingAndDoesNotReadTheStream(BlobStore store) throws IOException {
        byte[] content = "layer bytes".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.of(content);
        store.put(digest, content.length, new ByteArrayInputStream(content));

        InputStream mustNotBeRead = new InputStream() {
            @Override
            public int read() {
                throw new AssertionError("the store read content it already had");
            }
        };
        StoredBlob again = store.put(Namespace.BLOBS, digest, content.length, mustNotBeRead);

        assertThat(again.uploaded()).isFalse();
        assertThat(again.size()).isEqualTo(content.length);
    }

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
    void largeBlobGoesUpInPartsAndComesBackWholeAndInRanges(BlobStore store) throws IOException {
        GeneratedContent content = new GeneratedContent(42, 120L * MiB + 12345);
        Digest digest = content.digest();

        StoredBlob stored = store.put(Namespace.BLOBS, digest, content.size(), content.stream());

        assertThat(stored).isEqualTo(new StoredBlob(digest, content.size(), true));
        assertThat(store.size(Namespace.BLOBS, digest)).hasValue(content.size());
        assertThat(digestOf(store.open(digest))).isEqualTo(digest);

        // Ranges inside the first part, across the 16 MiB part boundary, and at the very end.
        long[][] ranges = {{0, 100}, {16L * MiB - 10, 20}, {content.size() - 777, 777}, {50L * MiB + 3, 2 * MiB}};
        for (long[] range : ranges) {
            try (InputStream in = store.openRange(Namespace.BLOBS, digest, range[0], range[1])) {
                assertThat(in.readAllBytes()).as("range %d+%d", range[0], range[1])
                        .isEqualTo(content.bytes(range[0], (int) range[1]));
            }
        }
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
    void aLayerFileThatChangedSizeSinceItWasHashedIsRefusedAndNotStored(BlobStore store,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws IOException {
        GeneratedContent content = new GeneratedContent(44, 8L * MiB);
        java.nio.file.Path file = dir.resolve("layer.tar");
        try (InputStream in = content.stream()) {
            java.nio.file.Files.copy(in, file);
        }
        java.nio.file.Files.write(file, new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);

        assertThatThrownBy(() -> store.putFile(Namespace.BLOBS, content.digest(), content.size(), file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining((content.size() + 1) + " bytes, " + content.size() + " were hashed");
        assertThat(store.contains(content.digest())).isFalse();
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
    void smallContentWithTheWrongDigestIsRefusedAndNotStored(BlobStore store) {
        byte[] content = "what was sent".getBytes(StandardCharsets.UTF_8);
        Digest claimed = Digest.of("what was promised");

        assertThatThrownBy(() -> store.put(claimed, content.length, new ByteArrayInputStream(content)))
                .isInstanceOfSatisfying(DigestMismatchException.class, e -> {
                    assertThat(e.expected()).isEqualTo(claimed);
                    assertThat(e.actual()).isEqualTo(Digest.of(content));
                })
                .hasMessageContaining("blobs/sha256/" + claimed.hex());
        assertThat(containsQuietly(store, claimed)).isFalse();
    }

    @Test
    void multipartContentWithTheWrongDigestIsRefusedAndNotStored(BlobStore store) throws IOException {
        GeneratedContent content = new GeneratedContent(7, 40L * MiB);
        Digest claimed = new GeneratedContent(8, 40L * MiB).digest();

        assertThatThrownBy(() -> store.put(claimed, content.size(), content.stream()))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("content digest differs");
        assertThat(store.contains(claimed)).isFalse();
        assertThat(store.contains(content.digest())).isFalse();
    }

    @Test
    void contentLongerThanPromisedIsRefused(BlobStore store) {
        GeneratedContent content = new GeneratedContent(9, 30L * MiB);
        Digest digest = content.digest();

        assertThatThrownBy(() -> store.put(digest, 20L * MiB, content.stream()))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("longer than the promised " + 20L * MiB + " bytes");
        assertThat(containsQuietly(store, digest)).isFalse();
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
    void concurrentPutsOfTheSameDigestAllSucceedAndLeaveOneIntactBlob(BlobStore store) throws Exception {
        GeneratedContent content = new GeneratedContent(11, 20L * MiB);
        Digest digest = content.digest();
        List<Callable<StoredBlob>> puts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            puts.add(() -> store.put(Namespace.BLOBS, digest, content.size(), content.stream()));
        }

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<StoredBlob> result : pool.invokeAll(puts)) {
                assertThat(result.get().digest()).isEqualTo(digest);
            }
        }

        assertThat(store.size(Namespace.BLOBS, digest)).hasValue(content.size());
        assertThat(digestOf(store.open(digest))).isEqualTo(digest);
    }

    @Test
    void putComputingDigestHandlesContentOfUnknownDigestSmallAndLarge(BlobStore store) throws IOException {
        byte[] small = "context file".getBytes(StandardCharsets.UTF_8);
        StoredBlob smallStored = store.putComputingDigest(Namespace.CONTEXT, new ByteArrayInputStream(small));
        assertThat(smallStored.digest()).isEqualTo(Digest.of(small));
        assertThat(store.readAllBytes(Namespace.CONTEXT, smallStored.digest())).isEqualTo(small);

        GeneratedContent large = new GeneratedContent(13, 33L * MiB + 1);
        StoredBlob largeStored = store.putComputingDigest(Namespace.CONTEXT, large.stream());
        assertThat(largeStored).isEqualTo(new StoredBlob(large.digest(), large.size(), true));
        assertThat(digestOf(store.open(Namespace.CONTEXT, largeStored.digest()))).isEqualTo(large.digest());

        assertThat(store.listDigests(Namespace.CONTEXT)).contains(Digest.of(small), large.digest());
        assertThat(store.listDigests(Namespace.BLOBS)).doesNotContain(Digest.of(small), large.digest());
    }

    @Test
    void cacheRecordsAreRawObjectsThatCanBeOverwritten(BlobStore store) throws IOException {
        String key = Digest.of("instruction chain").hex();
        assertThat(store.getRecord(key)).isEmpty();

        store.putRecord(key, "first".getBytes(StandardCharsets.UTF_8));
        store.putRecord(key, "second".getBytes(StandardCharsets.UTF_8));

        assertThat(store.getRecord(key)).hasValueSatisfying(
                bytes -> assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("second"));
        assertThat(store.list("cache/")).extracting(StoredObject::key).contains("cache/" + key);
        assertThatThrownBy(() -> store.putRecord("../escape", new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("../escape");
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
