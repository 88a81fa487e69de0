package dev.stagefarm.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DigestTest {

    // sha256 of the empty string, a well-known value
    private static final String EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    @Test
    void ofComputesSha256AndPrintsCanonicalForm() {
        Digest d = Digest.of(new byte[0]);
        assertThat(d.hex()).isEqualTo(EMPTY);
        assertThat(d.algorithm()).isEqualTo("sha256");
        assertThat(d).hasToString("sha256:" + EMPTY);
        assertThat(Digest.parse(d.toString())).isEqualTo(d);
    }

    @Test
    void parseRejectsMalformedDigestsWithTypedException() {
        assertThatThrownBy(() -> Digest.parse("sha512:" + EMPTY)).isInstanceOf(InvalidDigestException.class)
                .hasMessageContaining("unsupported algorithm 'sha512'");
        assertThatThrownBy(() -> Digest.parse(EMPTY)).isInstanceOf(InvalidDigestException.class)
                .hasMessageContaining("expected <algorithm>:<hex>");
        assertThatThrownBy(() -> Digest.parse("sha256:abc")).isInstanceOf(InvalidDigestException.class)
                .hasMessageContaining("64 hex characters, got 3");
        assertThatThrownBy(() -> Digest.parse("sha256:" + EMPTY.toUpperCase())).isInstanceOf(InvalidDigestException.class)
                .hasMessageContaining("not lowercase hex");
        assertThatThrownBy(() -> Digest.parse("")).isInstanceOf(InvalidDigestException.class);
        assertThat(Digest.isValid("sha256:" + EMPTY)).isTrue();
        assertThat(Digest.isValid("sha256:" + EMPTY + "0")).isFalse();
    }

    @Test
    void streamsDigestAndCountWhatPassesThrough() throws IOException {
        byte[] data = "hello, layer".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (DigestingOutputStream out = new DigestingOutputStream(sink)) {
            out.write(data, 0, 5);
            out.write(data[5]);
            out.write(data, 6, data.length - 6);
            assertThat(out.count()).isEqualTo(data.length);
            assertThat(out.digest()).isEqualTo(Digest.of(data));
        }
        assertThat(sink.toByteArray()).isEqualTo(data);

        DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(data));
        assertThat(in.read()).isEqualTo('h');
        in.skip(3);
        in.verify(Digest.of(data), data.length);
        assertThat(in.count()).isEqualTo(data.length);
    }

    @Test
    void verifyNamesBothDigestsOnMismatch() {
        byte[] data = "abc".getBytes(StandardCharsets.UTF_8);
        Digest wrong = Digest.of("abd");
        DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(data));
        assertThatThrownBy(() -> in.verify(wrong, 3)).isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining(wrong.toString()).hasMessageContaining(Digest.of(data).toString());
    }

    @Test
    void platformParsesAndMatchesVariants() {
        assertThat(Platform.parse("linux/amd64")).isEqualTo(Platform.LINUX_AMD64);
        assertThat(Platform.parse("linux/arm/v7").variant()).isEqualTo("v7");
        assertThat(new Platform("linux", "arm64").satisfies(Platform.parse("linux/arm64/v8"))).isTrue();
        assertThat(new Platform("linux", "arm", "v6").satisfies(Platform.parse("linux/arm/v7"))).isFalse();
        assertThatThrownBy(() -> Platform.parse("linux")).hasMessageContaining("os/arch");
    }
}
