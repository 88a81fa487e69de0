package dev.stagefarm.oci.store;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.DigestingOutputStream;
import dev.stagefarm.oci.LimitedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The content store in a directory, for a farm on one host (the one-shot farm): every key of {@link BlobStore} is a
 * file under the root ({@code <root>/blobs/sha256/<hex>}, {@code <root>/cache/<key>}, …), so a layer reaches the store
 * without an HTTP request, a second write or a second hash, and a farm starts no S3 server and no S3 client.
 *
 * <ul>
 *   <li><b>Atomic</b>: every object is written to a temporary file in {@code <root>/~tmp} (same filesystem; {@code ~}
 *       is not a key character, so no key reaches it) and renamed into place: a reader sees the whole old object or
 *       the whole new one. Content-addressed puts verify the digest and size while writing and rename nothing that
 *       does not match.</li>
 *   <li><b>No fsync</b>: a single-host farm's store is a cache that a crash may cost, never corrupt silently. After
 *       a power loss a renamed blob may come back empty or short; every whole read is verified against its digest,
 *       a damaged blob is removed when a read finds it (so that it counts as missing, like a collected one, and the
 *       next put stores it again), cache records are signed and sealed secrets authenticated by their readers.
 *       Syncing each layer would put a disk flush of its whole size on every stage's critical path.</li>
 *   <li><b>{@link #putFile}</b> hard-links the worker's layer file into the store when both are on one filesystem
 *       (no copy, no hash: the worker hashed it as it wrote it), and copies it otherwise.</li>
 *   <li><b>Hostile content on disk</b>: keys are checked ({@link #pathOf}) so that each maps to a path below the
 *       root; a symbolic link anywhere below the root (a directory on the way, or the object itself) is refused,
 *       never followed; a blob whose bytes changed on disk fails its read ({@link VerifyingInputStream}).</li>
 * </ul>
 *
 * <p>Several processes may share one root (the one-shot farm and the local farm of one home): every write is a
 * rename, every name is content-addressed or last-writer-wins like S3. Thread-safe.
 */
public final class FileBlobStore extends SmallObjectStore {

    private static final Logger log = LoggerFactory.getLogger(FileBlobStore.class);

    /** The prefix of a store location that names a directory instead of an S3 endpoint ({@code file:/path}). */
    public static final String SCHEME = "file:";
    /** Where puts are staged; not a key ({@code ~} is no key character). */
    static final String TEMP_DIR = "~tmp";
    /** Temporary files older than this are a crashed writer's, removed when a store opens. */
    private static final Duration STALE_TEMP = Duration.ofHours(6);

    private final Path root;
    private final Path temp;

    private FileBlobStore(Path root, Path temp) {
        this.root = root;
        this.temp = temp;
    }

    /**
     * Opens the store in {@code dir}, creating it (owner-only) when missing, and removes temporary files a crashed
     * writer left behind long ago.
     */
    public static FileBlobStore open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir.toAbsolutePath().getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another process created it meanwhile
            }
        }
        Path root = dir.toRealPath();
        Path temp = root.resolve(TEMP_DIR);
        Files.createDirectories(temp);
        if (!Files.isDirectory(temp, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("the file store's temporary directory " + temp + " is not a directory");
        }
        FileBlobStore store = new FileBlobStore(root, temp);
        store.removeStaleTemporaryFiles();
        return store;
    }

    /** Whether a store location ({@code s3} setting) names a directory: {@code file:/absolute/path}. */
    public static boolean isLocation(String location) {
        return location != null && location.startsWith(SCHEME);
    }

    /**
     * The directory of a {@code file:} location: {@code file:/abs/dir} or {@code file:///abs/dir}.
     *
     * @throws IllegalArgumentException when it is not an absolute path
     */
    public static Path directoryOf(String location) {
        if (!isLocation(location)) {
            throw new IllegalArgumentException("not a file store location: '" + location + "'");
        }
        String rest = location.substring(SCHEME.length());
        // file:///abs (a URI without a host) or file:/abs; no URI decoding, so a path may hold any character
        Path path = Path.of(rest.startsWith("///") ? rest.substring(2) : rest);
        if (!path.isAbsolute() || rest.startsWith("//") && !rest.startsWith("///")) {
            throw new IllegalArgumentException("invalid file store location '" + location
                    + "': use file:/absolute/directory");
        }
        return path.normalize();
    }

    /** The location naming this store ({@code file:<root>}), for settings handed to workers. */
    public String location() {
        return SCHEME + root;
    }

    public Path root() {
        return root;
    }

    // ---- content-addressed blobs ----

    @Override
    public OptionalLong size(Namespace namespace, Digest digest) throws IOException {
        return regularFileSize(namespace.key(digest));
    }

    private OptionalLong regularFileSize(String key) throws IOException {
        Path path = pathOf(key);
        if (!parentIsInside(path)) {
            return OptionalLong.empty();
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
        if (!attributes.isRegularFile()) {
            throw new IOException(describe(key) + " is not a regular file (a symbolic link or directory planted in"
                    + " the store?): refusing it");
        }
        return OptionalLong.of(attributes.size());
    }

    /** Nothing is written when the store has the blob at the promised size (then {@code content} is not read). */
    @Override
    public StoredBlob put(Namespace namespace, Digest digest, long size, InputStream content) throws IOException {
        OptionalLong stored = size(namespace, digest);
        if (stored.isPresent() && (size < 0 || stored.getAsLong() == size)) {
            return new StoredBlob(digest, stored.getAsLong(), false);
        }
        String key = namespace.key(digest);
        Path staged = Files.createTempFile(temp, "put-", ".tmp");
        try {
            long written = writeVerified(staged, key, digest, size, content);
            publish(staged, key);
            return new StoredBlob(digest, written, true);
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    /** As {@link #put(Namespace, Digest, long, InputStream)}: asking the directory first costs one stat. */
    @Override
    public StoredBlob putFresh(Namespace namespace, Digest digest, long size, InputStream content) throws IOException {
        return put(namespace, digest, size, content);
    }

    /**
     * Links the file into the store (same filesystem; the stored blob then shares the file's inode, so the caller
     * must not write to the file afterwards: the worker removes its layer file) or copies it, under a temporary
     * name, then renames it into place. Not hashed: the caller did as it wrote the file.
     */
    @Override
    public StoredBlob putFile(Namespace namespace, Digest digest, long size, Path file) throws IOException {
        String key = namespace.key(digest);
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile() || attributes.size() != size) {
            throw new IOException("store of " + describe(key) + " refused: " + file + (attributes.isRegularFile()
                    ? " holds " + attributes.size() + " bytes, " + size + " were hashed" : " is not a regular file"));
        }
        OptionalLong stored = size(namespace, digest);
        if (stored.isPresent() && stored.getAsLong() == size) {
            return new StoredBlob(digest, size, false);
        }
        Path staged = temp.resolve("file-" + java.util.UUID.randomUUID() + ".tmp");
        try {
            try {
                Files.createLink(staged, file);
            } catch (FileSystemException | UnsupportedOperationException notLinkable) {
                if (notLinkable instanceof NoSuchFileException) {
                    throw notLinkable;
                }
                // another filesystem (EXDEV) or one without hard links: the kernel copies (copy_file_range)
                Files.copy(file, staged, StandardCopyOption.REPLACE_EXISTING);
                if (Files.size(staged) != size) {
                    throw new IOException("store of " + describe(key) + " refused: " + file
                            + " changed while it was copied");
                }
            }
            publish(staged, key);
            return new StoredBlob(digest, size, true);
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    /** Written once, to a temporary file in the store while it is digested, then renamed under its digest. */
    @Override
    public StoredBlob putComputingDigest(Namespace namespace, InputStream content) throws IOException {
        Path staged = Files.createTempFile(temp, "put-", ".tmp");
        try {
            DigestedFile written = DigestedFile.write(staged, new byte[0], content);
            OptionalLong stored = size(namespace, written.digest());
            if (stored.isPresent() && stored.getAsLong() == written.size()) {
                return new StoredBlob(written.digest(), written.size(), false);
            }
            publish(staged, namespace.key(written.digest()));
            return new StoredBlob(written.digest(), written.size(), true);
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    /** Copies {@code content} to {@code staged}, refusing it as soon as it overruns {@code size} and when it ends. */
    private long writeVerified(Path staged, String key, Digest expected, long size, InputStream content)
            throws IOException {
        String where = "write to " + describe(key) + " refused";
        try (OutputStream file = Files.newOutputStream(staged);
             DigestingOutputStream out = new DigestingOutputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = content.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                if (size >= 0 && out.count() > size) {
                    throw new DigestMismatchException(expected, out.digest(), where
                            + ": content is longer than the promised " + size + " bytes");
                }
            }
            out.flush();
            Digest actual = out.digest();
            if (size >= 0 && out.count() != size) {
                throw new DigestMismatchException(expected, actual, where + ": " + out.count() + " bytes, expected "
                        + size);
            }
            if (!actual.equals(expected)) {
                throw new DigestMismatchException(expected, actual, where + ": content digest differs");
            }
            return out.count();
        }
    }

    /** Renames a complete temporary file to the object's path (replacing what is there, as an S3 PUT does). */
    private void publish(Path staged, String key) throws IOException {
        Path target = pathOf(key);
        Files.createDirectories(target.getParent());
        if (!parentIsInside(target)) {
            throw new IOException("cannot store " + describe(key) + ": a directory on its path is a symbolic link"
                    + " (planted in the store?)");
        }
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public InputStream open(Namespace namespace, Digest digest) throws IOException {
        String key = namespace.key(digest);
        Object inode = inode(key);
        FileChannel channel = openFile(key, digest);
        return new DamageRemovingStream(new VerifyingInputStream(Channels.newInputStream(channel), digest, -1,
                describe(key)), key, inode);
    }

    @Override
    public InputStream openRange(Namespace namespace, Digest digest, long offset, long length) throws IOException {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("invalid range: offset " + offset + ", length " + length);
        }
        FileChannel channel = openFile(namespace.key(digest), digest);
        channel.position(offset);
        return LimitedInputStream.stoppingAfter(Channels.newInputStream(channel), length);
    }

    /**
     * The blob's file, opened for reading without following a symbolic link (as {@link #open}), for a reader that
     * has the kernel copy it ({@code copy_file_range}: an export written to a file). <b>Not verified</b>: the caller
     * hashes the bytes it copied and fails on a mismatch, as {@link #open}'s stream fails at its end (ArchiveWriter
     * reads back the copy it wrote).
     *
     * @throws BlobNotFoundException when the store has no such blob
     */
    public FileChannel openChannel(Namespace namespace, Digest digest) throws IOException {
        return openFile(namespace.key(digest), digest);
    }

    /** An OCI blob's file ({@link #openChannel}): a file export has the kernel copy it, then verifies the copy. */
    @Override
    public FileChannel openFile(Digest digest) throws IOException {
        return openChannel(Namespace.BLOBS, digest);
    }

    /** The file's identity (device and inode), or null when it cannot be read now (the open then reports why). */
    private Object inode(String key) {
        try {
            return Files.readAttributes(pathOf(key), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** The object's file, opened without following a symbolic link. */
    private FileChannel openFile(String key, Digest digest) throws IOException {
        Path path = pathOf(key);
        if (!parentIsInside(path)) {
            throw new BlobNotFoundException(digest, describe(key));
        }
        try {
            return FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new BlobNotFoundException(digest, describe(key));
        } catch (IOException e) {
            // ELOOP (O_NOFOLLOW met a link) comes as a plain IOException
            throw new IOException("cannot read " + describe(key) + ": " + e.getMessage()
                    + " (a symbolic link planted in the store is refused)", e);
        }
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : pathOf(prefix.substring(0, slash));
        if (!Files.isDirectory(start, LinkOption.NOFOLLOW_LINKS) || !start.toRealPath().equals(start)) {
            return List.of();
        }
        List<StoredObject> objects = new ArrayList<>();
        // not following links: a symbolic link below the root is neither listed nor entered
        Files.walkFileTree(start, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                return dir.equals(temp) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                String key = root.relativize(file).toString().replace(java.io.File.separatorChar, '/');
                if (attributes.isRegularFile() && key.startsWith(prefix) && StoreKeys.isValidObjectKey(key)) {
                    objects.add(new StoredObject(key, attributes.size(), attributes.lastModifiedTime().toInstant()));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // removed while the directory was read
                }
                throw e;
            }
        });
        objects.sort(Comparator.comparing(StoredObject::key));
        return objects;
    }

    @Override
    public void deleteObject(String key) throws IOException {
        Path path = pathOf(key);
        if (parentIsInside(path)) {
            Files.deleteIfExists(path); // a planted symbolic link is removed, not followed
        }
    }

    // ---- records and sealed objects: small files, overwritten by rename ----

    @Override
    void putSmall(String key, byte[] content) throws IOException {
        Path staged = Files.createTempFile(temp, "put-", ".tmp");
        try {
            Files.write(staged, content);
            publish(staged, key);
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    @Override
    Optional<byte[]> readSmall(String key, int atMostBytes) throws IOException {
        Path path = pathOf(key);
        if (!parentIsInside(path)) {
            return Optional.empty();
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
             InputStream in = Channels.newInputStream(channel)) {
            return Optional.of(in.readNBytes(atMostBytes));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // ELOOP (O_NOFOLLOW met a link) comes as a plain IOException
            throw new IOException("cannot read " + describe(key) + ": " + e.getMessage()
                    + " (a symbolic link planted in the store is refused)", e);
        }
    }

    // ---- keys and paths ----

    /**
     * The path of an object key, below the root by construction: the key is checked ({@link StoreKeys#isValidObjectKey}), so it has
     * no '.' or '..' segment, no empty one, no character outside the key alphabet.
     *
     * @throws IllegalArgumentException naming the key when it is not a valid object key
     */
    private Path pathOf(String key) {
        StoreKeys.checkObjectKey(key);
        Path path = root.resolve(key).normalize();
        if (!path.startsWith(root) || path.equals(root) || path.startsWith(temp)) {
            throw new IllegalArgumentException("invalid object key '" + key + "': outside the store");
        }
        return path;
    }

    /**
     * Whether the directory holding {@code path} exists and is reached without a symbolic link (its real path is
     * itself): a link planted on the way would lead reads, writes and deletes outside the root.
     */
    private boolean parentIsInside(Path path) throws IOException {
        Path parent = path.getParent();
        try {
            return parent.toRealPath().equals(parent);
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    private void removeStaleTemporaryFiles() {
        Instant before = Instant.now().minus(STALE_TEMP);
        try (Stream<Path> files = Files.list(temp)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(before)) {
                    Files.deleteIfExists(file);
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            log.warn("could not remove stale temporary files in {}: {}", temp, e.getMessage());
        }
    }

    @Override
    String describe(String key) {
        return "file store " + root + "/" + key;
    }

    /** Nothing to release: no connections, no threads. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "FileBlobStore[" + root + "]";
    }

    /**
     * A verified read that, when the blob's bytes on disk turn out not to be its digest's, removes the damaged file
     * (if it is still the one that was read): the blob then counts as missing, and the next put stores it again.
     */
    private final class DamageRemovingStream extends java.io.FilterInputStream {
        private final String key;
        private final Object inode;

        DamageRemovingStream(InputStream in, String key, Object inode) {
            super(in);
            this.key = key;
            this.inode = inode;
        }

        @Override
        public int read() throws IOException {
            try {
                return in.read();
            } catch (DigestMismatchException e) {
                throw removeDamaged(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return in.read(b, off, len);
            } catch (DigestMismatchException e) {
                throw removeDamaged(e);
            }
        }

        private DigestMismatchException removeDamaged(DigestMismatchException e) {
            Path path = pathOf(key);
            try {
                if (inode != null && parentIsInside(path) && inode.equals(Files.readAttributes(path,
                        BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey())) {
                    Files.deleteIfExists(path);
                    log.warn("removed the damaged {}: {}", describe(key), e.getMessage());
                }
            } catch (IOException gone) {
                // removed or replaced meanwhile: nothing to do
            }
            return e;
        }
    }
}
