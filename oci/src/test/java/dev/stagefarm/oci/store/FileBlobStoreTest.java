package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only the directory store does: links instead of copies, and content planted on its disk ('..' keys, symbolic
 * links, damaged bytes, stale temporary files). What every store does: {@code BlobStoreContractTest} (testkit).
 */
class FileBlobStoreTest {

    @TempDir
    Path dir;
    Path rootDir;
    Path outside;
    FileBlobStore store;

    @BeforeEach
    void open() throws IOException {
        rootDir = dir.resolve("store");
        outside = Files.createDirectories(dir.resolve("outside"));
        store = FileBlobStore.open(rootDir);
    }

    @Test
    void theStoreIsCreatedOwnerOnlyAndNamedByItsLocation() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(rootDir))).isEqualTo("rwx------");
        assertThat(FileBlobStore.directoryOf(store.location())).isEqualTo(store.root());
        assertThat(FileBlobStore.directoryOf("file:///var/lib/stagefarm/store")).isEqualTo(Path.of("/var/lib/stagefarm/store"));
        assertThat(FileBlobStore.isLocation("http://127.0.0.1:9000")).isFalse();
        assertThatThrownBy(() -> FileBlobStore.directoryOf("file:relative/dir"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("file:relative/dir");
    }

    @Test
    void aLayerFileOnTheSameFilesystemIsLinkedNotCopied() throws IOException {
        byte[] layer = "a layer the worker wrote and hashed".getBytes(StandardCharsets.UTF_8);
        Path file = Files.write(dir.resolve("layer.tar"), layer);
        Digest digest = Digest.of(layer);

        assertThat(store.putFile(Namespace.BLOBS, digest, layer.length, file).uploaded()).isTrue();

        Path stored = store.root().resolve(Namespace.BLOBS.key(digest));
        assertThat(fileKey(stored)).isEqualTo(fileKey(file)); // one inode: no byte copied
        Files.delete(file);
        assertThat(store.readAllBytes(Namespace.BLOBS, digest)).isEqualTo(layer);
        assertThat(leftInTemp()).isEmpty();
    }

    @Test
    void aLayerFileOnAnotherFilesystemIsCopied() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeThat(Files.isWritable(shm) && !Files.getFileStore(shm).equals(Files.getFileStore(dir)))
                .as("a writable tmpfs other than the test's directory").isTrue();
        byte[] layer = "a layer on another filesystem".getBytes(StandardCharsets.UTF_8);
        Path file = Files.createTempFile(shm, "stagefarm-layer-", ".tar");
        try {
            Files.write(file, layer);
            Digest digest = Digest.of(layer);

            assertThat(store.putFile(Namespace.BLOBS, digest, layer.length, file).uploaded()).isTrue();

            assertThat(fileKey(store.root().resolve(Namespace.BLOBS.key(digest)))).isNotEqualTo(fileKey(file));
            assertThat(store.readAllBytes(Namespace.BLOBS, digest)).isEqualTo(layer);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void keysThatClimbOutOfTheStoreAreRefusedAndTouchNothingOutside() throws IOException {
        Path victim = Files.writeString(outside.resolve("victim"), "keep me");
        String climb = "../outside/victim";

        for (String key : List.of(climb, "blobs/../../outside/victim", "cache/./x", "~tmp/x", "/etc/passwd",
                "blobs//x", "")) {
            assertThatThrownBy(() -> store.deleteObject(key)).as(key)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + key + "'");
        }
        assertThatThrownBy(() -> store.list("../outside/")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.putRecord("../../outside/victim", new byte[] {1}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.getSealed("secrets/../../outside/victim", 100))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Files.readString(victim)).isEqualTo("keep me");
    }

    @Test
    void aSymbolicLinkPlantedAsADirectoryIsNeitherReadWrittenListedNorDeletedThrough() throws IOException {
        Path victim = Files.writeString(outside.resolve("victim"), "keep me");
        Files.createSymbolicLink(store.root().resolve("cache"), outside);

        assertThat(store.getRecord("victim")).isEmpty();
        assertThatThrownBy(() -> store.putRecord("victim", "overwritten".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class).hasMessageContaining("symbolic link");
        store.deleteObject("cache/victim");
        assertThat(store.list("cache/")).isEmpty();
        assertThat(store.list("")).extracting(StoredObject::key).doesNotContain("cache/victim");

        assertThat(Files.readString(victim)).isEqualTo("keep me");
    }

    @Test
    void aSymbolicLinkPlantedAsABlobIsRefusedEvenWhenItsTargetHasTheRightBytes() throws IOException {
        byte[] content = "bytes kept outside the store".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.of(content);
        Path target = Files.write(outside.resolve("blob"), content);
        Path planted = Files.createDirectories(store.root().resolve("blobs/sha256")).resolve(digest.hex());
        Files.createSymbolicLink(planted, target);

        assertThatThrownBy(() -> store.contains(digest))
                .isInstanceOf(IOException.class).hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> store.open(Namespace.BLOBS, digest))
                .isInstanceOf(IOException.class).hasMessageContaining(digest.hex());
        assertThatThrownBy(() -> store.openRange(Namespace.BLOBS, digest, 0, 5)).isInstanceOf(IOException.class);
        assertThat(store.list("blobs/")).isEmpty();
        Files.createDirectories(store.root().resolve("secrets"));
        Files.createSymbolicLink(store.root().resolve("secrets/build-1"), target);
        assertThatThrownBy(() -> store.getSealed("secrets/build-1", 1000))
                .isInstanceOf(IOException.class).hasMessageContaining("secrets/build-1");

        store.deleteObject(Namespace.BLOBS.key(digest)); // removes the link itself, not what it points at
        assertThat(Files.exists(planted, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
    }

    @Test
    void aBlobDamagedOnDiskFailsItsReadIsRemovedAndCanBeStoredAgain() throws IOException {
        byte[] content = "a layer whose disk blocks went bad".getBytes(StandardCharsets.UTF_8);
        Digest digest = store.putBytes(Namespace.BLOBS, content).digest();
        Path file = store.root().resolve(Namespace.BLOBS.key(digest));
        byte[] damaged = content.clone();
        damaged[0] ^= 0x20;
        Files.write(file, damaged); // same size: only the digest can tell

        assertThat(store.size(Namespace.BLOBS, digest)).hasValue(content.length);
        assertThatThrownBy(() -> store.readAllBytes(Namespace.BLOBS, digest))
                .isInstanceOf(DigestMismatchException.class).hasMessageContaining(file.toString());

        assertThat(store.contains(digest)).as("a damaged blob counts as missing once found").isFalse();
        assertThat(store.put(Namespace.BLOBS, digest, content.length, new ByteArrayInputStream(content)).uploaded())
                .isTrue();
        assertThat(store.readAllBytes(Namespace.BLOBS, digest)).isEqualTo(content);
    }

    @Test
    void aReadThatStopsEarlyRemovesNothing() throws IOException {
        byte[] content = "read only the first bytes".getBytes(StandardCharsets.UTF_8);
        Digest digest = store.putBytes(Namespace.BLOBS, content).digest();
        Files.write(store.root().resolve(Namespace.BLOBS.key(digest)), "READ only the first bytes".getBytes());

        try (InputStream in = store.open(Namespace.BLOBS, digest)) {
            assertThat(in.readNBytes(4)).hasSize(4);
        }

        assertThat(store.contains(digest)).isTrue(); // unverified, so not judged
    }

    @Test
    void aRefusedPutLeavesNeitherTheObjectNorATemporaryFile() {
        byte[] content = "sent".getBytes(StandardCharsets.UTF_8);
        Digest claimed = Digest.of("promised");

        assertThatThrownBy(() -> store.put(Namespace.BLOBS, claimed, content.length, new ByteArrayInputStream(content)))
                .isInstanceOf(DigestMismatchException.class);

        assertThat(Files.exists(store.root().resolve(Namespace.BLOBS.key(claimed)))).isFalse();
        assertThat(leftInTemp()).isEmpty();
    }

    @Test
    void openingRemovesOnlyTemporaryFilesLeftLongAgo() throws IOException {
        Path temp = store.root().resolve(FileBlobStore.TEMP_DIR);
        Path stale = Files.writeString(temp.resolve("put-crashed.tmp"), "half a blob");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofDays(1))));
        Path young = Files.writeString(temp.resolve("put-running.tmp"), "another process's write");

        FileBlobStore.open(rootDir).close();

        assertThat(Files.exists(stale)).isFalse();
        assertThat(Files.exists(young)).isTrue();
        assertThat(store.list("")).isEmpty(); // temporary files are no objects
    }

    private List<Path> leftInTemp() {
        try (Stream<Path> files = Files.list(store.root().resolve(FileBlobStore.TEMP_DIR))) {
            return files.toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Object fileKey(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }
}
