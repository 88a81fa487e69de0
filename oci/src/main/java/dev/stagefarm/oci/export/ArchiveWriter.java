package dev.stagefarm.oci.export;

import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.DigestingInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A tar for image archives: fixed owners, mode and mtime so the archive depends only on its contents; blobs are
 * streamed from a {@link BlobSource} and checked against their digest and size on the way.
 */
final class ArchiveWriter implements Closeable {

    private static final FileTime EPOCH = FileTime.from(Instant.EPOCH);

    private final TarArchiveOutputStream tar;
    private final Set<String> written = new HashSet<>();

    ArchiveWriter(OutputStream out) {
        tar = new TarArchiveOutputStream(new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush(); // the caller owns the stream
            }
        }, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    }

    void directory(String name) throws IOException {
        if (!written.add(name)) {
            return;
        }
        TarArchiveEntry e = entry(name.endsWith("/") ? name : name + "/");
        e.setMode(0755);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    void bytes(String name, byte[] content) throws IOException {
        if (!written.add(name)) {
            return;
        }
        TarArchiveEntry e = entry(name);
        e.setSize(content.length);
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
        tar.putArchiveEntry(e);
        InputStream opened = source.open(digest);
        DigestingInputStream digesting = source.verifiesAtEnd() ? null : new DigestingInputStream(opened);
        try (InputStream in = digesting == null ? opened : digesting) {
            byte[] buffer = new byte[256 * 1024];
            long copied = 0;
            int n;
            while (copied < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - copied))) > 0) {
                tar.write(buffer, 0, n);
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
        tar.closeArchiveEntry();
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
        tar.finish();
        tar.close();
    }
}
