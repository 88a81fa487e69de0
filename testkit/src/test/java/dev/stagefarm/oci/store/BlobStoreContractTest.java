package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.DigestingOutputStream;
import dev.stagefarm.testkit.GeneratedContent;
import dev.stagefarm.testkit.S3Fixture;
import dev.stagefarm.testkit.TempDirectories;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every {@link BlobStore} promises, against both: {@link S3BlobStore} on a real S3 server (S3Proxy, {@link
 * S3Fixture}) and {@link FileBlobStore} in a directory. What only one of them does is in {@link S3BlobStoreTest} and
 * {@code FileBlobStoreTest} (oci module: keys and links planted to escape the root).
 */
class BlobStoreContractTest {

    private static final int MiB = 1024 * 1024;

    /** A store and a way to damage an object's bytes in its backend behind its back. */
    record Backend(String name, BlobStore store, Damage damage) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Damage {
        void overwrite(String key, byte[] bytes) throws Exception;
    }

    private static final Backend S3 = s3Backend();
    private static final Backend FILE = fileBackend();

    private static Backend s3Backend() {
        S3Config config = S3Fixture.newBucket("store-contract");
        return new Backend("S3", BlobStore.connect(config), (key, bytes) -> {
            try (io.minio.MinioAsyncClient raw = io.minio.MinioAsyncClient.builder().endpoint(config.endpoint())
                    .credentialsProvider(config.credentials().provider()).region(config.region()).build()) {
                raw.putObject(io.minio.PutObjectArgs.builder().bucket(config.bucket()).object(key)
                        .stream(new ByteArrayInputStream(bytes), (long) bytes.length, -1L).build()).get();
            }
        });
    }

    private static Backend fileBackend() {
        try {
            FileBlobStore store = FileBlobStore.open(TempDirectories.createDeletedAtExit("stagefarm-file-store-"));
            return new Backend("file", store, (key, bytes) -> {
                Path path = store.root().resolve(key);
                Files.createDirectories(path.getParent());
                Files.write(path, bytes); // in place: the same file, other bytes
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Stream<Named<Backend>> stores() {
        return Stream.of(Named.of("S3", S3), Named.of("file", FILE));
    }

    @AfterAll
    static void close() {
        S3.store().close();
        FILE.store().close();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aSmallBlobRoundTripsUnderItsContentAddress(Backend backend) throws IOException {
        BlobStore store = backend.store();
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
        assertThat(store.listDigests(Namespace.BLOBS)).contains(digest);
        // the context namespace is a separate key space
        assertThat(store.exists(Namespace.CONTEXT, digest)).isFalse();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aSecondPutOfAStoredDigestStoresNothingAndDoesNotReadTheStream(Backend backend) throws IOException {
        BlobStore store = backend.store();
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

        assertThat(again).isEqualTo(new StoredBlob(digest, content.length, false));
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aFreshBlobIsVerifiedBeforeItIsStored(Backend backend) throws IOException {
        BlobStore store = backend.store();
        byte[] content = "a layer a stage just made".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.of(content);

        assertThat(store.putFresh(Namespace.BLOBS, digest, content.length, new ByteArrayInputStream(content)).digest())
                .isEqualTo(digest);
        assertThat(store.readAllBytes(Namespace.BLOBS, digest)).isEqualTo(content);
        Digest claimed = Digest.of("what was promised, fresh");
        assertThatThrownBy(() -> store.putFresh(Namespace.BLOBS, claimed, content.length,
                new ByteArrayInputStream(content))).isInstanceOf(DigestMismatchException.class);
        assertThat(store.contains(claimed)).isFalse();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aLargeBlobComesBackWholeAndInRanges(Backend backend) throws IOException {
        BlobStore store = backend.store();
        GeneratedContent content = new GeneratedContent(42, 60L * MiB + 12345);
        Digest digest = content.digest();

        StoredBlob stored = store.put(Namespace.BLOBS, digest, content.size(), content.stream());

        assertThat(stored).isEqualTo(new StoredBlob(digest, content.size(), true));
        assertThat(store.size(Namespace.BLOBS, digest)).hasValue(content.size());
        assertThat(digestOf(store.open(digest))).isEqualTo(digest);
        // ranges at the start, across S3's 16 MiB part boundary, at the very end, in the middle
        long[][] ranges = {{0, 100}, {16L * MiB - 10, 20}, {content.size() - 777, 777}, {50L * MiB + 3, 2 * MiB}};
        for (long[] range : ranges) {
            try (InputStream in = store.openRange(Namespace.BLOBS, digest, range[0], range[1])) {
                assertThat(in.readAllBytes()).as("range %d+%d", range[0], range[1])
                        .isEqualTo(content.bytes(range[0], (int) range[1]));
            }
        }
        assertThatThrownBy(() -> store.openRange(Namespace.BLOBS, Digest.of("no range here"), 0, 10))
                .isInstanceOf(BlobNotFoundException.class);
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aLayerFileItsWriterHashedIsStoredOnceAndReadsBackVerified(Backend backend, @TempDir Path dir)
            throws Exception {
        BlobStore store = backend.store();
        GeneratedContent content = new GeneratedContent(43, 12L * MiB + 321);
        Path file = dir.resolve("layer.tar");
        try (InputStream in = content.stream()) {
            Files.copy(in, file);
        }

        StoredBlob stored = store.putFile(Namespace.BLOBS, content.digest(), content.size(), file);

        assertThat(stored).isEqualTo(new StoredBlob(content.digest(), content.size(), true));
        assertThat(store.putFile(Namespace.BLOBS, content.digest(), content.size(), file).uploaded()).isFalse();
        Files.delete(file); // the worker removes its layer file: the store does not depend on it
        assertThat(digestOf(store.open(content.digest()))).isEqualTo(content.digest());
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aLayerFileThatChangedSizeSinceItWasHashedIsRefusedAndNotStored(Backend backend, @TempDir Path dir)
            throws IOException {
        BlobStore store = backend.store();
        GeneratedContent content = new GeneratedContent(44, 8L * MiB);
        Path file = dir.resolve("layer.tar");
        try (InputStream in = content.stream()) {
            Files.copy(in, file);
        }
        Files.write(file, new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);

        assertThatThrownBy(() -> store.putFile(Namespace.BLOBS, content.digest(), content.size(), file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining((content.size() + 1) + " bytes, " + content.size() + " were hashed");
        assertThat(store.contains(content.digest())).isFalse();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void smallContentWithTheWrongDigestIsRefusedAndNotStored(Backend backend) throws IOException {
        BlobStore store = backend.store();
        byte[] content = "what was sent".getBytes(StandardCharsets.UTF_8);
        Digest claimed = Digest.of("what was promised");

        assertThatThrownBy(() -> store.put(claimed, content.length, new ByteArrayInputStream(content)))
                .isInstanceOfSatisfying(DigestMismatchException.class, e -> {
                    assertThat(e.expected()).isEqualTo(claimed);
                    assertThat(e.actual()).isEqualTo(Digest.of(content));
                })
                .hasMessageContaining("blobs/sha256/" + claimed.hex());
        assertThat(store.contains(claimed)).isFalse();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void largeContentWithTheWrongDigestIsRefusedAndNotStored(Backend backend) throws IOException {
        BlobStore store = backend.store();
        GeneratedContent content = new GeneratedContent(7, 40L * MiB);
        Digest claimed = new GeneratedContent(8, 40L * MiB).digest();

        assertThatThrownBy(() -> store.put(claimed, content.size(), content.stream()))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("content digest differs");
        assertThat(store.contains(claimed)).isFalse();
        assertThat(store.contains(content.digest())).isFalse();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void contentLongerThanPromisedIsRefused(Backend backend) throws IOException {
        BlobStore store = backend.store();
        GeneratedContent content = new GeneratedContent(9, 30L * MiB);
        Digest digest = content.digest();

        assertThatThrownBy(() -> store.put(digest, 20L * MiB, content.stream()))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("longer than the promised " + 20L * MiB + " bytes");
        assertThat(store.contains(digest)).isFalse();
    }

    @ParameterizedTest
    @MethodSource("stores")
    void openingAMissingBlobNamesTheBlobAndItsKey(Backend backend) throws IOException {
        Digest missing = Digest.of("never stored");

        assertThatThrownBy(() -> backend.store().open(missing))
                .isInstanceOfSatisfying(BlobNotFoundException.class, e -> assertThat(e.digest()).isEqualTo(missing))
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("blobs/sha256/" + missing.hex());
        assertThat(backend.store().listDigests(Namespace.PROGRAMS)).doesNotContain(missing);
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aBlobDamagedInTheBackendFailsItsRead(Backend backend) throws Exception {
        BlobStore store = backend.store();
        byte[] content = "a blob to damage".getBytes(StandardCharsets.UTF_8);
        Digest digest = store.putBytes(Namespace.CONTEXT, content).digest();
        byte[] damaged = content.clone();
        damaged[3] ^= 1;

        backend.damage().overwrite(Namespace.CONTEXT.key(digest), damaged);

        assertThatThrownBy(() -> store.readAllBytes(Namespace.CONTEXT, digest))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("context/sha256/" + digest.hex());
    }

    @ParameterizedTest
    @MethodSource("stores")
    void concurrentPutsOfTheSameDigestAllSucceedAndLeaveOneIntactBlob(Backend backend) throws Exception {
        BlobStore store = backend.store();
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

    @ParameterizedTest
    @MethodSource("stores")
    void putComputingDigestStoresContentOfUnknownDigestSmallAndLarge(Backend backend) throws IOException {
        BlobStore store = backend.store();
        byte[] small = "context file".getBytes(StandardCharsets.UTF_8);
        StoredBlob smallStored = store.putComputingDigest(Namespace.CONTEXT, new ByteArrayInputStream(small));
        assertThat(smallStored.digest()).isEqualTo(Digest.of(small));
        assertThat(store.readAllBytes(Namespace.CONTEXT, smallStored.digest())).isEqualTo(small);

        GeneratedContent large = new GeneratedContent(13, 33L * MiB + 1);
        StoredBlob largeStored = store.putComputingDigest(Namespace.CONTEXT, large.stream());
        assertThat(largeStored).isEqualTo(new StoredBlob(large.digest(), large.size(), true));
        assertThat(digestOf(store.open(Namespace.CONTEXT, largeStored.digest()))).isEqualTo(large.digest());
        assertThat(store.putComputingDigest(Namespace.CONTEXT, large.stream()).uploaded()).isFalse();

        assertThat(store.listDigests(Namespace.CONTEXT)).contains(Digest.of(small), large.digest());
        assertThat(store.listDigests(Namespace.BLOBS)).doesNotContain(Digest.of(small), large.digest());
    }

    @ParameterizedTest
    @MethodSource("stores")
    void cacheRecordsAreOverwrittenAndTheirKeysStayInTheirSpace(Backend backend) throws IOException {
        BlobStore store = backend.store();
        String key = Digest.of("instruction chain").hex();
        assertThat(store.getRecord(key)).isEmpty();

        store.putRecord(key, "first".getBytes(StandardCharsets.UTF_8));
        store.putRecord(key, "second".getBytes(StandardCharsets.UTF_8));

        assertThat(store.getRecord(key)).hasValueSatisfying(
                bytes -> assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("second"));
        assertThat(store.list("cache/")).extracting(StoredObject::key).contains("cache/" + key);
        assertThat(store.list("")).extracting(StoredObject::key).contains("cache/" + key);
        for (String hostile : List.of("../escape", "a/../../b", "/abs", "a//b", "")) {
            assertThatThrownBy(() -> store.putRecord(hostile, new byte[0]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + hostile + "'");
            assertThatThrownBy(() -> store.getRecord(hostile)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @ParameterizedTest
    @MethodSource("stores")
    void aCacheRecordOverItsLimitIsRefusedNamingIt(Backend backend) throws Exception {
        String key = "huge";
        backend.damage().overwrite("cache/" + key, new byte[StoreKeys.RECORD_MAX_BYTES + 1]);

        assertThatThrownBy(() -> backend.store().getRecord(key))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("cache/" + key)
                .hasMessageContaining("larger than " + StoreKeys.RECORD_MAX_BYTES + " bytes");
    }

    @ParameterizedTest
    @MethodSource("stores")
    void sealedObjectsAreReadUpToTheirLimitAndDeleted(Backend backend) throws IOException {
        BlobStore store = backend.store();
        String key = "secrets/build-1";
        byte[] sealed = "sealed secrets".getBytes(StandardCharsets.UTF_8);
        assertThat(store.getSealed(key, 100)).isEmpty();

        store.putSealed(key, sealed);

        assertThat(store.getSealed(key, sealed.length)).hasValue(sealed);
        assertThatThrownBy(() -> store.getSealed(key, sealed.length - 1))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(key)
                .hasMessageContaining("larger than " + (sealed.length - 1) + " bytes");
        store.deleteSealed(key);
        store.deleteSealed(key); // not there: no error
        assertThat(store.getSealed(key, 100)).isEmpty();
        for (String hostile : List.of("secrets/../cache/x", "cache/x", "secrets/a/b", "secrets/.hidden")) {
            assertThatThrownBy(() -> store.putSealed(hostile, sealed))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(hostile);
        }
    }

    @ParameterizedTest
    @MethodSource("stores")
    void listedObjectsAreDeletedByKeyOrDigest(Backend backend) throws IOException {
        BlobStore store = backend.store();
        Digest first = store.putBytes(Namespace.PROGRAMS, "program one".getBytes(StandardCharsets.UTF_8)).digest();
        Digest second = store.putBytes(Namespace.PROGRAMS, "program two".getBytes(StandardCharsets.UTF_8)).digest();
        List<StoredObject> listed = store.list(Namespace.PROGRAMS.prefix());
        assertThat(listed).extracting(StoredObject::key)
                .contains(Namespace.PROGRAMS.key(first), Namespace.PROGRAMS.key(second))
                .isSorted();
        assertThat(listed).allSatisfy(o -> assertThat(o.lastModified())
                .isAfter(java.time.Instant.now().minus(java.time.Duration.ofHours(1))));

        store.deleteObject(Namespace.PROGRAMS.key(first));
        store.delete(Namespace.PROGRAMS, second);
        store.delete(Namespace.PROGRAMS, second); // not there: no error

        assertThat(store.exists(Namespace.PROGRAMS, first)).isFalse();
        assertThat(store.exists(Namespace.PROGRAMS, second)).isFalse();
        assertThat(store.list(Namespace.PROGRAMS.prefix())).extracting(StoredObject::key)
                .doesNotContain(Namespace.PROGRAMS.key(first), Namespace.PROGRAMS.key(second));
    }

    private static Digest digestOf(InputStream in) throws IOException {
        try (in; DigestingOutputStream out = DigestingOutputStream.discarding()) {
            in.transferTo(out);
            return out.digest();
        }
    }
}
