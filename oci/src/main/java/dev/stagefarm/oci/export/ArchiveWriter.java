package dev.stagefarm.oci.export;

import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.DigestingInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A tar for image archives: fixed owners, mode and mtime so the archive depends only on its contents; blobs are
 * streamed from a {@link BlobSource} and checked against their digest and size on the way.
 *
 * <p>Written to a stream, or to a file ({@link #ArchiveWriter(FileChannel)}): then a blob the source has as a file
 * ({@link BlobSource#openFile}) is copied by the kernel ({@code copy_file_range}), not through Java arrays, and the
 * copy is read back from the destination and hashed: what the archive holds is what was verified, whatever the
 * source file did meanwhile. Both write the same bytes (each header is what {@link TarArchiveOutputStream} writes).
 */
final class ArchiveWriter implements Closeable {

    private static final FileTime EPOCH = FileTime.from(Instant.EPOCH);
    private static final int RECORD = 512;
    /** A tar ends with two zero records ({@link TarArchiveOutputStream#finish}; its block is one record). */
    private static final int END_OF_ARCHIVE = 2 * RECORD;
    /** The direct buffer a copied blob is read back through to be hashed. */
    private static final int READ_BACK = 1 << 20;

    /** The stream mode's tar; null when writing to {@link #file}. */
    private final TarArchiveOutputStream tar;
    /** The file mode's destination, written at its position; null when streaming. */
    private final FileChannel file;
    private final Set<String> written = new HashSet<>();
    private ByteBuffer readBack;

    ArchiveWriter(OutputStream out) {
        tar = newTar(new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush(); // the caller owns the stream
            }
        });
        file = null;
    }

    /**
     * Writes to {@code file} from its position on, reading back what it copies (so it must be open for reading too).
     * The caller owns the channel.
     */
    ArchiveWriter(FileChannel file) {
        this.tar = null;
        this.file = file;
    }

    private static TarArchiveOutputStream newTar(OutputStream out) {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        return tar;
    }

    void directory(String name) throws IOException {
        if (!written.add(name)) {
            return;
        }
        TarArchiveEntry e = entry(name.endsWith("/") ? name : name + "/");
        e.setMode(0755);
        if (file != null) {
            writeFully(header(e));
            return;
        }
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    void bytes(String name, byte[] content) throws IOException {
        if (!written.add(name)) {
            return;
        }
        TarArchiveEntry e = entry(name);
        e.setSize(content.length);
        if (file != null) {
            writeFully(header(e));
            writeFully(content);
            pad(content.length);
            return;
        }
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /**
     * Copies a blob into the archive; fails naming the blob when the source's bytes are not what was promised. A
     * source whose streams check themselves ({@link BlobSource#verifiesAtEnd}) is read to its end, which checks the
     * digest, and not hashed here again; any other source's bytes are hashed here.
     */
    void blob(String name, BlobSource source, Digest digest, long size) throws IOException {
        if (!written.add(name)) {
            return;
        }
        TarArchiveEntry e = entry(name);
        e.setSize(size);
        if (file != null) {
            writeFully(header(e));
            FileChannel from = source.openFile(digest);
            if (from != null) {
                try (from) {
                    copyAndVerify(from, digest, size);
                }
            } else {
                try (OutputStream out = new ChannelOutput(file)) {
                    copyStream(source, digest, size, out);
                }
            }
            pad(size);
            return;
        }
        tar.putArchiveEntry(e);
        copyStream(source, digest, size, tar);
        tar.closeArchiveEntry();
    }

    private static void copyStream(BlobSource source, Digest digest, long size, OutputStream to) throws IOException {
        InputStream opened = source.open(digest);
        DigestingInputStream digesting = source.verifiesAtEnd() ? null : new DigestingInputStream(opened);
        try (InputStream in = digesting == null ? opened : digesting) {
            byte[] buffer = new byte[256 * 1024];
            long copied = 0;
            int n;
            while (copied < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - copied))) > 0) {
                to.write(buffer, 0, n);
                copied += n;
            }
            if (copied != size) {
                throw digesting != null
                        ? new DigestMismatchException(digest, digesting.digest(), "blob ended after " + copied
                                + " of " + size + " bytes")
                        : new IOException("blob " + digest + " ended after " + copied + " of " + size + " bytes");
            }
            if (digesting != null) {
                digesting.verify(digest, size);
            } else if (in.read() >= 0) { // at its end, the source's stream checks the digest
                throw new IOException("blob " + digest + " has more than the " + size + " bytes its manifest says");
            }
        }
    }

    /**
     * The kernel copies {@code size} bytes of {@code from} to the archive's position; then the copy is read back from
     * the archive and hashed. The source file is not trusted at any point: only the bytes that landed count.
     */
    private void copyAndVerify(FileChannel from, Digest digest, long size) throws IOException {
        long held = from.size();
        if (held < size) {
            throw new IOException("blob " + digest + " ended after " + held + " of " + size + " bytes");
        }
        if (held > size) {
            throw new IOException("blob " + digest + " has more than the " + size + " bytes its manifest says");
        }
        long start = file.position();
        long copied = 0;
        while (copied < size) {
            long n = from.transferTo(copied, size - copied, file);
            if (n <= 0) {
                throw new IOException("blob " + digest + " ended after " + copied + " of " + size + " bytes");
            }
            copied += n;
        }
        if (file.position() != start + size) { // a channel that does not advance: never seen, but never trusted
            throw new IOException("copying blob " + digest + " into the archive wrote " + (file.position() - start)
                    + " of " + size + " bytes");
        }
        MessageDigest sha256 = Digest.newSha256();
        if (readBack == null) {
            readBack = ByteBuffer.allocateDirect(READ_BACK);
        }
        long read = 0;
        while (read < size) {
            readBack.clear().limit((int) Math.min(READ_BACK, size - read));
            int n = file.read(readBack, start + read);
            if (n <= 0) {
                throw new IOException("reading back blob " + digest + " from the archive ended after " + read
                        + " of " + size + " bytes");
            }
            readBack.flip();
            sha256.update(readBack);
            read += n;
        }
        Digest actual = Digest.fromBytes(sha256.digest());
        if (!actual.equals(digest)) {
            throw new DigestMismatchException(digest, actual, "blob copied into the archive");
        }
    }

    /** The header records {@link TarArchiveOutputStream} writes for {@code e} (PAX records included). */
    private static byte[] header(TarArchiveEntry e) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(3 * RECORD);
        newTar(bytes).putArchiveEntry(e); // writes the header records at once; the entry's content is never written
        return bytes.toByteArray();
    }

    /** Zeros up to the next record boundary after {@code length} bytes of content. */
    private void pad(long length) throws IOException {
        int rest = (int) (length % RECORD);
        if (rest != 0) {
            writeFully(new byte[RECORD - rest]);
        }
    }

    private void writeFully(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            file.write(buffer);
        }
    }

    private static TarArchiveEntry entry(String name) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setUserName("");
        e.setGroupName("");
        e.setUserId(0);
        e.setGroupId(0);
        e.setMode(0644);
        e.setLastModifiedTime(EPOCH);
        return e;
    }

    @Override
    public void close() throws IOException {
        if (file != null) {
            writeFully(new byte[END_OF_ARCHIVE]);
            return;
        }
        tar.finish();
        tar.close();
    }

    /** Writes to the channel at its position; closing leaves the channel open (the archive goes on). */
    private static final class ChannelOutput extends OutputStream {
        private final FileChannel channel;

        ChannelOutput(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }
}
