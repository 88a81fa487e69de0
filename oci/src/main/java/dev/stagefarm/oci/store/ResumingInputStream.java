package dev.stagefarm.oci.store;

import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads an object and, when the connection breaks mid-stream, reopens it at the offset reached (an HTTP range
 * request) instead of failing a multi-hundred-megabyte download near its end. Gives up after a bounded number of
 * consecutive failures without progress.
 */
final class ResumingInputStream extends InputStream {

    private static final Logger log = LoggerFactory.getLogger(ResumingInputStream.class);

    /** Opens the object from an offset to its end. */
    @FunctionalInterface
    interface Opener {
        InputStream openAt(long offset) throws IOException;
    }

    private final Opener opener;
    private final String what;
    private final int maxResumes;
    private InputStream current;
    private long position;
    private int failuresWithoutProgress;

    ResumingInputStream(InputStream first, Opener opener, String what, int maxResumes) {
        this.current = first;
        this.opener = opener;
        this.what = what;
        this.maxResumes = maxResumes;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        while (true) {
            try {
                int n = current.read(b, off, len);
                if (n > 0) {
                    position += n;
                    failuresWithoutProgress = 0;
                }
                return n;
            } catch (IOException e) {
                if (++failuresWithoutProgress > maxResumes) {
                    throw new IOException("reading " + what + " failed at byte " + position + " after "
                            + maxResumes + " resumptions: " + e.getMessage(), e);
                }
                log.debug("reading {} broke at byte {}, resuming: {}", what, position, e.toString());
                closeQuietly(current);
                current = opener.openAt(position);
            }
        }
    }

    @Override
    public void close() throws IOException {
        current.close();
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the broken stream is being replaced
        }
    }
}
