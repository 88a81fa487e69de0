package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Digest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ImageReferenceTest {

    private static final String HEX = "a".repeat(64);

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource({
            "busybox,                                 docker.io,       library/busybox, latest, registry-1.docker.io",
            "library/busybox:1.36,                    docker.io,       library/busybox, 1.36,   registry-1.docker.io",
            "docker.io/busybox,                       docker.io,       library/busybox, latest, registry-1.docker.io",
            "index.docker.io/library/busybox:1,       docker.io,       library/busybox, 1,      registry-1.docker.io",
            "team/app:v2,                             docker.io,       team/app,        v2,     registry-1.docker.io",
            "127.0.0.1:5000/library/busybox,          127.0.0.1:5000,  library/busybox, latest, 127.0.0.1:5000",
            "localhost/app:dev,                       localhost,       app,             dev,    localhost",
            "ghcr.io/org/tools/builder:1.2.3-rc_1,    ghcr.io,         org/tools/builder, 1.2.3-rc_1, ghcr.io",
            "registry.example.com:443/a/b__c/d-e:t,   registry.example.com:443, a/b__c/d-e, t, registry.example.com:443",
    })
    void normalisesLikeDocker(String text, String registry, String repository, String tag, String apiHost) {
        ImageReference ref = ImageReference.parse(text);
        assertThat(ref.registry()).isEqualTo(registry);
        assertThat(ref.repository()).isEqualTo(repository);
        assertThat(ref.tag()).isEqualTo(tag);
        assertThat(ref.digest()).isNull();
        assertThat(ref.apiHost()).isEqualTo(apiHost);
        assertThat(ref.manifestReference()).isEqualTo(tag);
    }

    @Test
    void digestReferencesPinTheManifest() {
        ImageReference ref = ImageReference.parse("127.0.0.1:5000/library/busybox@sha256:" + HEX);
        assertThat(ref.tag()).isNull();
        assertThat(ref.digest()).isEqualTo(new Digest(HEX));
        assertThat(ref.manifestReference()).isEqualTo("sha256:" + HEX);
        assertThat(ref).hasToString("127.0.0.1:5000/library/busybox@sha256:" + HEX);

        ImageReference both = ImageReference.parse("busybox:1.36@sha256:" + HEX);
        assertThat(both.tag()).isEqualTo("1.36");
        assertThat(both.manifestReference()).isEqualTo("sha256:" + HEX);
        assertThat(both).hasToString("docker.io/library/busybox:1.36@sha256:" + HEX);
    }

    @Test
    void canonicalFormRoundTrips() {
        ImageReference ref = ImageReference.parse("busybox");
        assertThat(ref).hasToString("docker.io/library/busybox:latest");
        assertThat(ImageReference.parse(ref.toString())).isEqualTo(ref);
        assertThat(ref.withDigest(new Digest(HEX)).withTag("x")).hasToString("docker.io/library/busybox:x");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
            "''                               | empty",
            "Busybox                          | invalid repository path component 'Busybox'",
            "busybox:                         | invalid tag ''",
            "busybox:-bad                     | invalid tag '-bad'",
            "busybox@sha256:abc               | 64 hex characters",
            "busybox@md5:" + "0123            | unsupported algorithm",
            "127.0.0.1:5000/                  | no repository name",
            "a//b                             | invalid repository path component ''",
            "repo/with space                  | invalid repository path component 'with space'",
    })
    void rejectsMalformedReferencesSayingWhy(String text, String reason) {
        assertThatThrownBy(() -> ImageReference.parse(text))
                .isInstanceOf(InvalidReferenceException.class)
                .hasMessageContaining("'" + text + "'")
                .hasMessageContaining(reason);
    }
}
