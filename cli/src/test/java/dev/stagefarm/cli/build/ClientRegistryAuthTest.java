package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.oci.registry.DockerConfigCredentials;
import dev.stagefarm.proto.v1.RegistryCredential;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientRegistryAuthTest {
  @TempDir Path dir;

  @Test
  void sendsTheDockerConfigsCredentialsForTheRegistriesTheBuildPullsFromAndPushesToOnly() throws Exception {
    Path config = dockerConfig("pull.example:5000", "push.example", "arg.example", "other.example");
    SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("""
            ARG BASE=unused.example/x
            FROM --platform=linux/amd64 pull.example:5000/team/base:1 AS build
            from ${BASE}/tool AS tool
            FROM scratch AS empty
            FROM build
            COPY --from=tool / /
            COPY --from=empty / /
            """))
        .putBuildArgs("BASE", "arg.example")
        .addTags("push.example/team/app:1");

    ClientRegistryAuth.add(request, Map.of(), DockerConfigCredentials.read(config, List.of()));

    assertThat(request.getRegistryCredentialsList()).extracting(RegistryCredential::getRegistry)
        .containsExactlyInAnyOrder("pull.example:5000", "push.example", "arg.example");
    assertThat(request.getRegistryCredentialsList()).filteredOn(c -> c.getRegistry().equals("push.example"))
        .extracting(RegistryCredential::getUsername, RegistryCredential::getSecret)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("user-of-push.example", "secret-of-push.example"));
  }

  @Test
  void findsTheImagesAsTheParserAndThePlannerDoNotByTheTextOfFromLines() throws Exception {
    Path config = dockerConfig("arg.example", "continued.example", "copied.example", "aliased.example",
        "heredoc.example", "untargeted.example", "default.example", "https://index.docker.io/v1/");
    SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("""
            # syntax=docker/dockerfile:1
            ARG REGISTRY=default.example
            FROM ${REGISTRY}/base:1 AS base
            RUN <<EOF
            FROM heredoc.example/x
            EOF
            FROM \\
              continued.example/tool:2 AS tool
            FROM untargeted.example/unused AS unused
            FROM base AS final
            COPY --from=tool /bin/tool /bin/
            COPY --from=copied.example/files:3 /f /f
            COPY --from=alias /a /a
            """))
        .setTarget("final")
        .putBuildArgs("REGISTRY", "arg.example");

    ClientRegistryAuth.add(request, Map.of("alias", "docker-image://aliased.example/a:1"),
        DockerConfigCredentials.read(config, List.of()));

    // not heredoc.example (a RUN's heredoc), nor untargeted.example (a stage --target does not
    // need), nor default.example (the ARG's default, overridden), nor Docker Hub ("base", "tool" and
    // "alias" name a stage or a named context, not library images)
    assertThat(request.getRegistryCredentialsList()).extracting(RegistryCredential::getRegistry)
        .containsExactlyInAnyOrder("arg.example", "continued.example", "copied.example", "aliased.example");
  }

  /** A docker config with credentials for each of {@code registries}. */
  private Path dockerConfig(String... registries) throws Exception {
    StringJoiner auths = new StringJoiner(",", "{\"auths\":{", "}}");
    for (String registry : registries) {
      auths.add("\"" + registry + "\":{\"auth\":\"" + basic("user-of-" + registry, "secret-of-" + registry) + "\"}");
    }
    return Files.writeString(dir.resolve("config.json"), auths.toString());
  }

  private static String basic(String user, String password) {
    return Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
