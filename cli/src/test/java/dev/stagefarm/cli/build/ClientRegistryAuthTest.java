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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientRegistryAuthTest {
  @TempDir Path dir;

  @Test
  void sendsTheDockerConfigsCredentialsForTheRegistriesTheBuildPullsFromAndPushesToOnly() throws Exception {
    Path config = Files.writeString(dir.resolve("config.json"), "{\"auths\":{"
        + "\"pull.example:5000\":{\"auth\":\"" + basic("puller", "p1") + "\"},"
        + "\"push.example\":{\"auth\":\"" + basic("pusher", "p2") + "\"},"
        + "\"arg.example\":{\"auth\":\"" + basic("arg", "p3") + "\"},"
        + "\"other.example\":{\"auth\":\"" + basic("other", "p4") + "\"}}}");
    SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("""
            ARG BASE=unused.example/x
            FROM --platform=linux/amd64 pull.example:5000/team/base:1 AS build
            from ${BASE}/tool AS tool
            FROM build
            FROM scratch
            """))
        .putBuildArgs("BASE", "arg.example")
        .addTags("push.example/team/app:1");

    ClientRegistryAuth.add(request, DockerConfigCredentials.read(config, List.of()));

    assertThat(request.getRegistryCredentialsList()).extracting(RegistryCredential::getRegistry)
        .containsExactlyInAnyOrder("pull.example:5000", "push.example", "arg.example");
    assertThat(request.getRegistryCredentialsList()).filteredOn(c -> c.getRegistry().equals("push.example"))
        .extracting(RegistryCredential::getUsername, RegistryCredential::getSecret)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("pusher", "p2"));
  }

  private static String basic(String user, String password) {
    return Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
