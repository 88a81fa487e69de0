package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Docker credential helpers: a small helper script answers for a registry that requires a password. */
class CredentialHelperTest {
  private static final String USER = "helper-user";
  private static final String PASSWORD = "from-the-helper-Pa55";

  @TempDir Path dir;

  /** A {@code docker-credential-NAME} that knows one server and logs what it was asked. */
  private Path helper(String name, String server) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path script = bin.resolve("docker-credential-" + name);
    Files.writeString(script, """
        #!/bin/sh
        [ "$1" = get ] || exit 2
        read server
        echo "$server" >> %s
        if [ "$server" = "%s" ]; then
          printf '{"ServerURL":"%%s","Username":"%s","Secret":"%s"}' "$server"
        else
          echo "credentials not found in native keychain"; exit 1
        fi
        """.formatted(dir.resolve("asked.log"), server, USER, PASSWORD));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return bin;
  }

  @Test
  void aRegistrysCredHelperSuppliesTheLoginForPushAndPull() throws Exception {
    try (RegistryFixture registry = RegistryFixture.startWithBasicAuth(USER, PASSWORD)) {
      Path bin = helper("fake", registry.host());
      Path config = Files.writeString(dir.resolve("config.json"),
          "{\"credHelpers\":{\"" + registry.host() + "\":\"fake\"}}");
      DockerConfigCredentials credentials = DockerConfigCredentials.read(config, List.of(bin));
      RegistrySettings settings = new RegistrySettings(registry.settings().insecure(), Map.of(), Map.of(), credentials);
      ImageReference ref = registry.reference("helped/busybox:1");
      try (RegistryClient client = new RegistryClient(settings)) {
        var digest = client.pushImage(ref, BusyboxImage.manifestBytes(), BusyboxImage.layout(), PushOptions.MONOLITHIC);
        assertThat(client.resolve(ref, Platform.LINUX_AMD64).manifestDigest()).isEqualTo(digest);
      }
      // asked once, by host; the answer is kept
      assertThat(Files.readAllLines(dir.resolve("asked.log"))).containsExactly(registry.host());
    }
  }

  @Test
  void theCredsStoreAnswersForEveryRegistryAndNotFoundMeansAnonymous() throws Exception {
    Path bin = helper("store", "registry.example:5000");
    Path config = Files.writeString(dir.resolve("config.json"),
        "{\"credsStore\":\"store\",\"auths\":{\"registry.example:5000\":{}}}");
    DockerConfigCredentials credentials = DockerConfigCredentials.read(config, List.of(bin));
    assertThat(credentials.lookup("registry.example:5000")).contains(new RegistryCredentials(USER, PASSWORD));
    assertThat(credentials.lookup("other.example")).isEmpty();
    // Docker Hub is asked for by its v1 URL
    assertThat(credentials.lookup("docker.io")).isEmpty();
    assertThat(Files.readAllLines(dir.resolve("asked.log")))
        .containsExactly("registry.example:5000", "other.example", "https://index.docker.io/v1/");
  }

  @Test
  void aMissingRegistryHelperOrAMisnamedHelperIsAnErrorNamingIt() throws Exception {
    Path config = Files.writeString(dir.resolve("config.json"),
        "{\"credsStore\":\"desktop\",\"credHelpers\":{\"r.example\":\"absent\"}}");
    DockerConfigCredentials credentials = DockerConfigCredentials.read(config, List.of(dir));
    // a desktop's credsStore whose helper is not installed here: anonymous, as before helpers were run
    assertThat(credentials.lookup("docker.io")).isEmpty();
    assertThatThrownBy(() -> credentials.lookup("r.example"))
        .hasMessageContaining("credential helper docker-credential-absent (named by the Docker config) is not on PATH");
    Path evil = Files.writeString(dir.resolve("evil.json"), "{\"credsStore\":\"../../bin/sh\"}");
    assertThatThrownBy(() -> DockerConfigCredentials.read(evil, List.of(dir)))
        .hasMessageContaining("invalid credential helper name '../../bin/sh' in " + evil);
  }
}
