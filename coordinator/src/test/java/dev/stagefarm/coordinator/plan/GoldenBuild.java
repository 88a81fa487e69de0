package dev.stagefarm.coordinator.plan;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.InMemoryCacheRecords;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A real multi-stage build with everything fixed: a Go service built in one stage and copied into
 * an Alpine runtime, with a context manifest, ARGs and build args, RUN cache/bind/secret mounts, a
 * {@code --mount from=}, {@code COPY --from}, {@code --parents}, a heredoc, a checksummed ADD and
 * metadata. Images are pinned to fixed digests; nothing is cached.
 */
final class GoldenBuild {
  static final String DOCKERFILE =
      """
      # syntax=docker/dockerfile:1
      ARG GO_VERSION=1.22
      FROM golang:${GO_VERSION} AS build
      ARG TARGETOS
      WORKDIR /src
      COPY go.mod go.sum ./
      RUN --mount=type=cache,target=/go/pkg/mod go mod download
      COPY . .
      RUN --mount=type=bind,source=scripts,target=/scripts \\
          --mount=type=secret,id=token \\
          GOOS=$TARGETOS /scripts/build.sh -o /out/app ./cmd/app

      FROM alpine:3.20 AS runtime
      ARG VERSION=dev
      ENV APP_VERSION=$VERSION
      RUN --mount=type=bind,from=build,source=/out,target=/mnt ls /mnt
      COPY --from=build --chmod=0755 /out/app /usr/local/bin/app
      COPY --parents config/./*.yaml /etc/app/
      COPY <<EOF /etc/app/motd
      hello from $VERSION
      EOF
      ADD --checksum=sha256:0f5e8bd8bb62c8a1b5b4d1a9e2e4a2c4f0d1a3a8c4b6d3e2f1a0b9c8d7e6f5a4 https://example.com/tool.tgz /opt/
      EXPOSE 8080/tcp 9000-9001/udp
      USER 1000
      WORKDIR /srv
      ENTRYPOINT ["/usr/local/bin/app"]
      """;

  static final Map<String, String> IMAGE_DIGESTS = Map.of(
      "golang:1.22", "sha256:" + "1".repeat(64),
      "alpine:3.20", "sha256:" + "2".repeat(64));

  static final ContextManifest CONTEXT = ContextManifest.newBuilder()
      .setSchemaVersion(2)
      .addEntries(dir("cmd"))
      .addEntries(dir("cmd/app"))
      .addEntries(file("cmd/app/main.go", "package main\nfunc main() {}\n", 0644))
      .addEntries(dir("config"))
      .addEntries(file("config/a.yaml", "a: 1\n", 0644))
      .addEntries(file("config/b.yaml", "b: 2\n", 0644))
      .addEntries(file("go.mod", "module example.com/app\n", 0644))
      .addEntries(file("go.sum", "", 0644))
      .addEntries(dir("scripts"))
      .addEntries(file("scripts/build.sh", "#!/bin/sh\ngo build \"$@\"\n", 0755))
      .build();

  static final String CONTEXT_DIGEST = Digest.of(CONTEXT.toByteArray()).toString();


  static final BaseImageResolver IMAGES = (reference, platform) -> {
    String digest = IMAGE_DIGESTS.get(reference);
    if (digest == null) {
      throw new PlanningException("image " + reference + " is not part of the golden build");
    }
    String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/local/go/bin:/usr/bin:/bin\"]},"
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + digest + "\"]}}";
    Digest layer = Digest.parse(digest);
    return new BaseImageResolver.ResolvedImage(
        "docker.io/library/" + reference.substring(0, reference.indexOf(':')) + "@" + digest,
        digest,
        new StageResult(List.of(new LayerRef(new Descriptor("", layer, 1), layer)),
            config.getBytes(StandardCharsets.UTF_8), reference));
  };

  private GoldenBuild() {}

  static BuildPlan plan(String buildId) throws PlanningException {
    InMemoryContentStore content = new InMemoryContentStore();
    content.putBytes(Namespace.CONTEXT, CONTEXT.toByteArray());
    // the build platform is pinned: the keys must not depend on the machine the test runs on
    return new DockerfilePlanner(content, new InMemoryCacheRecords(), IMAGES, dev.stagefarm.dockerfile.graph.Platform.DEFAULT)
        .plan(buildId, SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8(DOCKERFILE))
        .setDockerfileName("Dockerfile")
        .setContextManifest(CONTEXT_DIGEST)
        .putBuildArgs("VERSION", "1.2.3")
        .build());
  }

  private static ContextEntry dir(String path) {
    return ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.DIRECTORY).setMode(0755)
        .setMtimeMs(1_700_000_000_000L).build();
  }

  private static ContextEntry file(String path, String content, int mode) {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    return ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.FILE).setMode(mode)
        .setDigest(Digest.of(bytes).toString()).setSize(bytes.length).setMtimeMs(1_700_000_000_000L).build();
  }
}
