package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class VerifyingInputStreamTest {

    private static final byte[] CONTENT = "the bytes a digest names".getBytes(StandardCharsets.UTF_8);

    @Test
    void matchingContentReadsThrough() throws IOException {
        try (InputStream in = new VerifyingInputStream(new ByteArrayInputStream(CONTENT), Digest.of(CONTENT),
                CONTENT.length, "test")) {
            assertThat(in.readAllBytes()).isEqualTo(CONTENT);
        }
    }

    @Test
    void corruptContentFailsAtTheEndNamingTheSource() {
        byte[] corrupt = CONTENT.clone();
        corrupt[3] ^= 1;
        InputStream in = new VerifyingInputStream(new ByteArrayInputStream(corrupt), Digest.of(CONTENT), -1,
                "registry r (library/x)");
        assertThatThrownBy(in::readAllBytes)
                .isInstanceOfSatisfying(DigestMismatchException.class,
                        e -> assertThat(e.actual()).isEqualTo(Digest.of(corrupt)))
                .hasMessageContaining("corrupt content from registry r (library/x)");
    }

    @Test
    void truncatedContentFailsOnSize() {
        InputStream in = new VerifyingInputStream(new ByteArrayInputStream(CONTENT, 0, 5), Digest.of(CONTENT),
                CONTENT.length, "s3://b/k");
        assertThatThrownBy(in::readAllBytes)
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("s3://b/k gave 5 bytes, expected " + CONTENT.length);
    }
}
