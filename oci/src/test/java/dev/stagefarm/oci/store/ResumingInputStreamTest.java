package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResumingInputStreamTest {

    private static final byte[] CONTENT = new byte[10_000];

    static {
        for (int i = 0; i < CONTENT.length; i++) {
            CONTENT[i] = (byte) (i * 31);
        }
    }

    /** A stream over CONTENT from {@code offset} that breaks after {@code breakAfter} bytes (never if negative). */
    private static InputStream breaking(long offset, int breakAfter) {
        return new InputStream() {
            private final InputStream in = new ByteArrayInputStream(CONTENT, (int) offset, CONTENT.length - (int) offset);
            private int served;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (breakAfter >= 0 && served >= breakAfter) {
                    throw new IOException("connection reset");
                }
                int n = in.read(b, off, breakAfter < 0 ? len : Math.min(len, breakAfter - served));
                served += Math.max(n, 0);
                return n;
            }
        };
    }

    @Test
    void resumesAtTheOffsetReachedAndDeliversEveryByteOnce() throws IOException {
        List<Long> reopenedAt = new ArrayList<>();
        try (InputStream in = new ResumingInputStream(breaking(0, 3000), offset -> {
            reopenedAt.add(offset);
            return breaking(offset, reopenedAt.size() == 1 ? 4000 : -1);
        }, "test object", 3)) {
            assertThat(in.readAllBytes()).isEqualTo(CONTENT);
        }
        assertThat(reopenedAt).containsExactly(3000L, 7000L);
    }

    @Test
    void givesUpAfterRepeatedFailuresWithoutProgressNamingWhereItStopped() {
        InputStream in = new ResumingInputStream(breaking(0, 100), offset -> breaking(offset, 0), "s3://b/k", 2);
        assertThatThrownBy(in::readAllBytes)
                .isInstanceOf(IOException.class)
                .hasMessageContaining("reading s3://b/k failed at byte 100 after 2 resumptions");
    }
}
