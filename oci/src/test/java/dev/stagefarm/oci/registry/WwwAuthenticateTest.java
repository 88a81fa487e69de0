package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WwwAuthenticateTest {

    @Test
    void parsesDockerHubsBearerChallenge() {
        var challenge = WwwAuthenticate.parse("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"").orElseThrow();

        assertThat(challenge.scheme()).isEqualTo("bearer");
        assertThat(challenge.params()).isEqualTo(Map.of(
                "realm", "https://auth.docker.io/token",
                "service", "registry.docker.io",
                "scope", "repository:library/busybox:pull"));
    }

    @Test
    void parsesBasicChallengeAndQuotedCommasAndEscapes() {
        assertThat(WwwAuthenticate.parse("Basic realm=\"Registry Realm\"").orElseThrow())
                .isEqualTo(new WwwAuthenticate("basic", Map.of("realm", "Registry Realm")));

        var challenge = WwwAuthenticate.parse("Bearer realm=\"http://h/t\", scope=\"repository:a:pull,push\","
                + " error=\"insufficient_scope\", note=\"say \\\"hi\\\"\", bare=token").orElseThrow();
        assertThat(challenge.param("scope")).contains("repository:a:pull,push");
        assertThat(challenge.param("error")).contains("insufficient_scope");
        assertThat(challenge.param("note")).contains("say \"hi\"");
        assertThat(challenge.param("bare")).contains("token");
    }

    @Test
    void emptyHeaderHasNoChallenge() {
        assertThat(WwwAuthenticate.parse("")).isEmpty();
        assertThat(WwwAuthenticate.parse(null)).isEmpty();
    }
}
