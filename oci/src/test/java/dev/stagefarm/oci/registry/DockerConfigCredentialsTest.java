package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerConfigCredentialsTest {

    @Test
    void readsAuthsAsDockerLoginWritesThem(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, """
                {
                  "auths": {
                    "https://index.docker.io/v1/": {"auth": "%s"},
                    "127.0.0.1:5000": {"username": "bob", "password": "pw2"},
                    "https://ghcr.io": {"identitytoken": "tok"},
                    "empty.example.com": {}
                  },
                  "credsStore": "desktop"
                }
                """.formatted(Base64.getEncoder().encodeToString("alice:p:w".getBytes(StandardCharsets.UTF_8))));

        DockerConfigCredentials creds = DockerConfigCredentials.read(file);

        assertThat(creds.lookup("docker.io")).contains(new RegistryCredentials("alice", "p:w"));
        assertThat(creds.lookup("registry-1.docker.io")).contains(new RegistryCredentials("alice", "p:w"));
        assertThat(creds.lookup("127.0.0.1:5000")).contains(new RegistryCredentials("bob", "pw2"));
        assertThat(creds.lookup("ghcr.io")).contains(new RegistryCredentials("<token>", "tok"));
        assertThat(creds.lookup("empty.example.com")).isEmpty();
        assertThat(creds.lookup("quay.io")).isEmpty();
    }

    @Test
    void aConfigWithoutCredentialsOrAnInstalledHelperIsEmpty(@TempDir Path dir) throws IOException {
        assertThat(DockerConfigCredentials.none().isEmpty()).isTrue();
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"auths\": {\"empty.example.com\": {}}, \"credsStore\": \"not-installed-4b1e\"}");
        assertThat(DockerConfigCredentials.read(file, List.of(dir)).isEmpty()).isTrue();
        Files.writeString(file, "{\"auths\": {\"127.0.0.1:5000\": {\"username\": \"bob\", \"password\": \"pw\"}}}");
        assertThat(DockerConfigCredentials.read(file, List.of(dir)).isEmpty()).isFalse();
        Files.writeString(file, "{\"credHelpers\": {\"ghcr.io\": \"not-installed-4b1e\"}}");
        assertThat(DockerConfigCredentials.read(file, List.of(dir)).isEmpty()).isFalse(); // its helper must work
    }

    @Test
    void malformedFilesAreErrorsNamingTheFile(@TempDir Path dir) throws IOException {
        Path broken = dir.resolve("config.json");
        Files.writeString(broken, "{ not json");
        assertThatThrownBy(() -> DockerConfigCredentials.read(broken)).hasMessageContaining(broken.toString());

        Path badAuth = dir.resolve("bad.json");
        Files.writeString(badAuth, "{\"auths\":{\"h:1\":{\"auth\":\"" + Base64.getEncoder().encodeToString(
                "nocolon".getBytes(StandardCharsets.UTF_8)) + "\"}}}");
        assertThatThrownBy(() -> DockerConfigCredentials.read(badAuth))
                .hasMessageContaining("h:1").hasMessageContaining("user:password");
    }

    @Test
    void passwordsNeverAppearInToString() {
        assertThat(new RegistryCredentials("alice", "secret-value").toString()).doesNotContain("secret-value");
    }
}
