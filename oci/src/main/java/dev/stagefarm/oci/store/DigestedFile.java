package dev.stagefarm.oci.store;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Content of a digest not known before it was read, written to a file in the pass that digests it. */
record DigestedFile(Digest digest, long size) {

    /** Writes {@code head}, then the rest of {@code content}, to {@code file} (replacing it). */
    static DigestedFile write(Path file, byte[] head, InputStream content) throws IOException {
        try (OutputStream sink = Files.newOutputStream(file);
             DigestingOutputStream out = new DigestingOutputStream(sink)) {
            out.write(head);
            content.transferTo(out);
            out.flush();
            return new DigestedFile(out.digest(), out.count());
        }
    }
}
