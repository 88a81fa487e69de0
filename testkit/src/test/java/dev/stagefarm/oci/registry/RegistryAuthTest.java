package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryAuthTest {

    private static final String USER = "alice";
    private static final String PASSWORD = "s3cret-Pa55";

    @Test
    void basicAuthRegistryAcceptsConfiguredCredentialsAndRefusesOthers(@TempDir Path dir) throws Exception {
        try (RegistryFixture registry = RegistryFixture.startWithBasicAuth(USER, PASSWORD)) {
            ImageReference ref = registry.reference("private/busybox:1");
            byte[] manifest = BusyboxImage.manifestBytes();

            try (RegistryClient anonymous = new RegistryClient(registry.settings())) {
                assertThatThrownBy(() -> anonymous.pushImage(ref, manifest, BusyboxImage.layout(), PushOptions.MONOLITHIC))
                        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.unauthorized()).isTrue())
                        .hasMessageContaining(registry.host() + " requires a user name and password");
            }
            RegistrySettings wrong = registry.settings().withCredentials(registry.host(), new RegistryCredentials(USER, "nope"));
            try (RegistryClient intruder = new RegistryClient(wrong)) {
                assertThatThrownBy(() -> intruder.fetchManifest(ref))
                        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.unauthorized()).isTrue())
                        .hasMessageContaining("unauthorized");
            }

            // Credentials from a Docker config file, as `docker login` writes them.
            Path config = dir.resolve("config.json");
            Files.writeString(config, "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + Base64.getEncoder()
                    .encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8)) + "\"}}}");
            RegistrySettings fromDockerConfig = new RegistrySettings(registry.settings().insecure(),
                    java.util.Map.of(), java.util.Map.of(), DockerConfigCredentials.read(config));
            try (RegistryClient client = new RegistryClient(fromDockerConfig)) {
                var digest = client.pushImage(ref, manifest, BusyboxImage.layout(), PushOptions.MONOLITHIC);
                assertThat(client.resolve(ref, Platform.LINUX_AMD64).manifestDigest()).isEqualTo(digest);
            }
        }
    }

    @Test
    void bearerTokenFlowAgainstARegistryThatVerifiesSignedTokens(@TempDir Path dir) throws Exception {
        try (TokenServer tokens = new TokenServer(dir, USER, PASSWORD);
             RegistryFixture registry = RegistryFixture.startWithTokenAuth(tokens.realm(), TokenServer.SERVICE,
                     TokenServer.ISSUER, tokens.rootCertificate())) {
            ImageReference ref = registry.reference("team/busybox:signed");
            byte[] manifest = BusyboxImage.manifestBytes();

            RegistrySettings settings = registry.settings()
                    .withCredentials(registry.host(), new RegistryCredentials(USER, PASSWORD));
            try (RegistryClient client = new RegistryClient(settings)) {
                var digest = client.pushImage(ref, manifest, BusyboxImage.layout(), PushOptions.MONOLITHIC);
                ResolvedImage resolved = client.resolve(ref, Platform.LINUX_AMD64);
                assertThat(resolved.manifestDigest()).isEqualTo(digest);
                client.fetchBlob(ref, resolved.parsed().config().digest());
                assertThat(client.mountBlob(registry.reference("other/busybox:x"), resolved.parsed().config().digest(),
                        "team/busybox")).isTrue();
            }
            assertThat(tokens.scopesRequested()).contains("repository:team/busybox:pull,push",
                    "repository:team/busybox:pull", "repository:other/busybox:pull,push");
            // Tokens are cached per scope: far fewer than the dozen requests made.
            assertThat(tokens.tokensIssued()).isBetween(2, 4);

            RegistrySettings wrong = registry.settings()
                    .withCredentials(registry.host(), new RegistryCredentials(USER, "wrong"));
            try (RegistryClient intruder = new RegistryClient(wrong)) {
                assertThatThrownBy(() -> intruder.fetchManifest(ref))
                        .isInstanceOf(RegistryException.class)
                        .hasMessageContaining("token endpoint " + tokens.realm())
                        .hasMessageContaining("refused the credentials");
            }
        }
    }
}
