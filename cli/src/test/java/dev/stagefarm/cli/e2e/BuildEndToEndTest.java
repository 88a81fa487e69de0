package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import dev.stagefarm.proto.v1.StageStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm build} end to end: CLI → gRPC → coordinator → Kafka → two workers (runc) → S3 →
 * assembled OCI image, checked with umoci and run with runc.
 */
class BuildEndToEndTest {

  /** A build stage that "produces a binary": busybox-static plus a script it runs. */
  static String buildStage(String from) {
    return """
        FROM %s AS build
        COPY greeting.txt /src/greeting.txt
        RUN mkdir -p /out && cp /bin/busybox /out/busybox \\
         && printf '#!/busybox sh\\n/busybox cat /greeting.txt\\n' > /out/hello && chmod 755 /out/hello \\
         && cp /src/greeting.txt /out/greeting.txt
        """.formatted(from);
  }

  static Path context(Path dir, String dockerfile) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), dockerfile);
    Files.writeString(dir.resolve("greeting.txt"), "hello, world\n");
    return dir;
  }

  static Map<String, StageStatus> stagesByName(BuildStatus status) {
    return status.getStagesList().stream().collect(Collectors.toMap(StageStatus::getName, Function.identity()));
  }

  @Test
  void numberedStagesCopyAStaticBinaryIntoScratchAndItRuns(@TempDir Path dir) throws Exception {
    String dockerfile =
        buildStage(FarmUnderTest.busybox()).replace(" AS build", "")
            + """
            FROM scratch
            COPY --from=0 /out/ /
            CMD ["/hello"]
            """;
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    context(ctx, dockerfile);
    Path tar = dir.resolve("image.tar");

    FarmUnderTest.Result result = FarmUnderTest.build("-t", "hello:e2e", "-o", "type=oci,dest=" + tar, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).containsPattern("image sha256:[0-9a-f]{64} written to " + tar);
    Path bundle = ImageChecks.unpack(tar, "e2e", dir);
    assertThat(bundle.resolve("rootfs/hello")).isRegularFile();
    // the build stage only fed COPY --from (its layers stayed uncompressed in the farm); what left the farm is gzip
    var layers = ImageChecks.layers(dir.resolve("layout"), "e2e");
    assertThat(layers).isNotEmpty();
    for (var layer : layers) {
      assertThat(layer.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.layer.v1.tar+gzip");
      byte[] blob = ImageChecks.blobBytes(dir.resolve("layout"), layer.path("digest").asText());
      assertThat(dev.stagefarm.oci.Digest.of(blob).toString()).isEqualTo(layer.path("digest").asText());
      assertThat(blob).hasSize(layer.path("size").asInt()).startsWith(0x1f, 0x8b);
    }
    ImageChecks.Run run = ImageChecks.runc(bundle);
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).isEqualTo("hello, world\n");
  }

  @Test
  void namedStagesAndTargetBuildStopsAtTheBuildStage(@TempDir Path dir) throws Exception {
    String dockerfile =
        buildStage(FarmUnderTest.busybox())
            + """
            FROM scratch AS final
            COPY --from=build /out/ /
            CMD ["/hello"]
            """;
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    context(ctx, dockerfile);

    Path full = dir.resolve("full.tar");
    FarmUnderTest.Result named = FarmUnderTest.build("-t", "named:full", "-o", "type=oci,dest=" + full, ctx.toString());
    assertThat(named.exitCode()).as(named.stderr()).isZero();
    ImageChecks.Run run = ImageChecks.runc(ImageChecks.unpack(full, "full", Files.createDirectories(dir.resolve("a"))));
    assertThat(run.output()).isEqualTo("hello, world\n");

    Path partial = dir.resolve("build.tar");
    FarmUnderTest.Result target =
        FarmUnderTest.build("--target", "build", "-t", "named:build", "-o", "type=oci,dest=" + partial, ctx.toString());
    assertThat(target.exitCode()).as(target.stderr()).isZero();
    assertThat(FarmUnderTest.lastBuild().getStagesList()).extracting(StageStatus::getName).containsExactly("build");
    Path bundle = ImageChecks.unpack(partial, "build", Files.createDirectories(dir.resolve("b")));
    // the build stage's image: busybox with the produced files, not the scratch image
    assertThat(bundle.resolve("rootfs/out/hello")).isRegularFile();
    assertThat(bundle.resolve("rootfs/bin/busybox")).exists();
  }

  @Test
  void sourceDateEpochMakesTwoUncachedBuildsByteIdentical(@TempDir Path dir) throws Exception {
    String dockerfile =
        buildStage(FarmUnderTest.busybox())
            + """
            FROM scratch
            COPY --from=build /out/ /
            CMD ["/hello"]
            """;
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    context(ctx, dockerfile);
    Path first = dir.resolve("first.tar");
    Path second = dir.resolve("second.tar");

    FarmUnderTest.Result a = FarmUnderTest.build("--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=0",
        "-o", "type=oci,dest=" + first, ctx.toString());
    // same content, another mtime: with SOURCE_DATE_EPOCH the layers must not see the difference
    Files.setLastModifiedTime(ctx.resolve("greeting.txt"),
        FileTime.fromMillis(System.currentTimeMillis() - 86_400_000L));
    FarmUnderTest.Result b = FarmUnderTest.build("--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=0",
        "-o", "type=oci,dest=" + second, ctx.toString());

    assertThat(a.exitCode()).as(a.stderr()).isZero();
    assertThat(b.exitCode()).as(b.stderr()).isZero();
    assertThat(FarmUnderTest.lastBuild().getStagesList())
        .extracting(StageStatus::getState)
        .containsOnly(StageState.STAGE_DONE);
    Pattern digest = Pattern.compile("image (sha256:[0-9a-f]{64}) written");
    Matcher ma = digest.matcher(a.stdout());
    Matcher mb = digest.matcher(b.stdout());
    assertThat(ma.find()).as(a.stdout()).isTrue();
    assertThat(mb.find()).as(b.stdout()).isTrue();
    assertThat(mb.group(1)).isEqualTo(ma.group(1));
  }

  static final String CLIENT_SERVER =
      """
      FROM %s AS base
      RUN echo base > /base.txt

      FROM base AS build-client
      RUN sleep 3 && echo client > /client.txt

      FROM base AS build-server
      RUN sleep 3 && echo server > /server.txt

      FROM scratch AS client
      COPY --from=build-client /client.txt /

      FROM build-server AS server
      RUN false

      FROM scratch AS all
      COPY --from=build-client /client.txt /
      COPY --from=build-server /server.txt /
      """;

  @Test
  void targetClientNeverRunsServerStagesAndParallelStagesOverlapOnTwoWorkers(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    context(ctx, CLIENT_SERVER.formatted(FarmUnderTest.busybox()));

    FarmUnderTest.Result client = FarmUnderTest.build("--target", "client", ctx.toString());
    assertThat(client.exitCode()).as(client.stderr()).isZero();
    assertThat(FarmUnderTest.lastBuild().getStagesList())
        .extracting(StageStatus::getName)
        .containsExactlyInAnyOrder("base", "build-client", "client");

    Path trace = dir.resolve("trace.json");
    FarmUnderTest.Result all = FarmUnderTest.build("--target", "all", "--no-cache", "--trace", trace.toString(), ctx.toString());
    assertThat(all.exitCode()).as(all.stderr()).isZero();
    Map<String, StageStatus> stages = stagesByName(FarmUnderTest.lastBuild());
    StageStatus c = stages.get("build-client");
    StageStatus s = stages.get("build-server");
    assertThat(c.getState()).isEqualTo(StageState.STAGE_DONE);
    assertThat(s.getState()).isEqualTo(StageState.STAGE_DONE);
    assertThat(c.getWorkerId()).isNotEqualTo(s.getWorkerId());
    // the two intervals intersect: each started before the other finished
    assertThat(c.getStartedMs()).isLessThan(s.getFinishedMs());
    assertThat(s.getStartedMs()).isLessThan(c.getFinishedMs());

    // the Chrome trace shows the same: one track per worker, a span per stage
    com.fasterxml.jackson.databind.JsonNode events = new com.fasterxml.jackson.databind.ObjectMapper().readTree(trace.toFile()).get("traceEvents");
    java.util.List<String> tracks = new java.util.ArrayList<>();
    java.util.List<String> spans = new java.util.ArrayList<>();
    events.forEach(e -> {
      if (e.get("ph").asText().equals("M")) {
        tracks.add(e.get("args").get("name").asText());
      } else if (e.get("cat").asText().equals("stage")) {
        spans.add(e.get("name").asText());
      }
    });
    assertThat(tracks).contains(c.getWorkerId(), s.getWorkerId());
    assertThat(spans).contains("stage build-client", "stage build-server", "stage base", "stage all");
  }

  @Test
  void copyFromAnExternalImageByReference(@TempDir Path dir) throws Exception {
    String dockerfile =
        """
        FROM scratch
        COPY --from=%s /bin/busybox /busybox
        CMD ["/busybox", "echo", "from an external image"]
        """.formatted(FarmUnderTest.busybox());
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
    Path tar = dir.resolve("ext.tar");
    FarmUnderTest.Result result = FarmUnderTest.build("-t", "ext:1", "-o", "type=oci,dest=" + tar, ctx.toString());
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    ImageChecks.Run run = ImageChecks.runc(ImageChecks.unpack(tar, "1", dir));
    assertThat(run.output()).isEqualTo("from an external image\n");

    // the same image as a docker-archive, and pushed to a registry
    Path docker = dir.resolve("ext-docker.tar");
    String pushed = dev.stagefarm.testkit.RegistryFixture.shared().reference("e2e/pushed:1").toString();
    FarmUnderTest.Result again =
        FarmUnderTest.build("-t", pushed, "--push", "-o", "type=docker,dest=" + docker, ctx.toString());
    assertThat(again.exitCode()).as(again.stderr()).isZero();
    assertThat(ImageChecks.exec(java.util.List.of("tar", "-tf", docker.toString()), dir).output()).contains("manifest.json");
    String digest = FarmUnderTest.lastBuild().getImageDigest();
    try (dev.stagefarm.oci.registry.RegistryClient registry =
        new dev.stagefarm.oci.registry.RegistryClient(dev.stagefarm.testkit.RegistryFixture.shared().settings())) {
      assertThat(registry.resolveDigest(dev.stagefarm.oci.registry.ImageReference.parse(pushed)).toString()).isEqualTo(digest);
    }
  }

  @Test
  void unchangedRebuildReachesNoWorkerAndAChangedFileRebuildsOnlyWhatReadsIt(@TempDir Path dir) throws Exception {
    String dockerfile =
        """
        FROM %1$s AS one
        COPY one.txt /one.txt
        RUN cat /one.txt > /one.out

        FROM %1$s AS two
        COPY two.txt /two.txt
        RUN cat /two.txt > /two.out

        FROM scratch
        COPY --from=one /one.out /
        COPY --from=two /two.out /
        """.formatted(FarmUnderTest.busybox());
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
    Files.writeString(ctx.resolve("one.txt"), "1");
    Files.writeString(ctx.resolve("two.txt"), "2");

    assertThat(FarmUnderTest.build(ctx.toString()).exitCode()).isZero();
    BuildStatus first = FarmUnderTest.lastBuild();

    assertThat(FarmUnderTest.build(ctx.toString()).exitCode()).isZero();
    BuildStatus again = FarmUnderTest.lastBuild();
    assertThat(again.getStagesList()).allSatisfy(s -> {
      assertThat(s.getState()).isEqualTo(StageState.STAGE_CACHED);
      assertThat(s.getWorkerId()).isEmpty();
    });
    assertThat(again.getImageDigest()).isEqualTo(first.getImageDigest());

    Files.writeString(ctx.resolve("two.txt"), "2 changed");
    assertThat(FarmUnderTest.build(ctx.toString()).exitCode()).isZero();
    Map<String, StageStatus> changed = stagesByName(FarmUnderTest.lastBuild());
    assertThat(changed.get("one").getState()).isEqualTo(StageState.STAGE_CACHED);
    assertThat(changed.get("two").getState()).isEqualTo(StageState.STAGE_DONE);
    assertThat(changed.get("2").getState()).isEqualTo(StageState.STAGE_DONE);
  }

  /** Plain progress: step {@code i} of {@code n} of stage 0 shown and then ended with {@code end} (DONE, CACHED). */
  static String step(int i, int n, String end) {
    // the in-process farm's log lines may come in between on the shared stderr
    return "#(\\d+) \\[0 " + i + "/" + n + "\\] [^\\n]*\\n(?:\\d\\d:\\d\\d:[^\\n]*\\n)*#\\1 " + end;
  }

  @Test
  void aChangedFileReRunsOnlyFromTheFirstInstructionThatReadsIt(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(
        ctx.resolve("Dockerfile"),
        """
        FROM %s
        RUN echo prefix-%s > /a
        ENV GREETING=hi
        COPY file.txt /f
        RUN cat /f /a > /g && echo $GREETING >> /g
        """.formatted(FarmUnderTest.busybox(), java.util.UUID.randomUUID()));
    Files.writeString(ctx.resolve("file.txt"), "one\n");
    FarmUnderTest.Result first = FarmUnderTest.build(ctx.toString());
    assertThat(first.exitCode()).as(first.stderr()).isZero();
    assertThat(first.stderr()).containsPattern(step(4, 4, "DONE"));

    Files.writeString(ctx.resolve("file.txt"), "two\n");
    Path tar = dir.resolve("changed.tar");
    FarmUnderTest.Result second = FarmUnderTest.build("-t", "prefix:2", "-o", "type=oci,dest=" + tar, ctx.toString());
    assertThat(second.exitCode()).as(second.stderr()).isZero();
    // the first RUN and the ENV came from their cache records; COPY and the last RUN ran
    assertThat(second.stderr()).containsPattern(step(1, 4, "CACHED")).containsPattern(step(2, 4, "CACHED"))
        .containsPattern(step(3, 4, "DONE")).containsPattern(step(4, 4, "DONE"));
    Path bundle = ImageChecks.unpack(tar, "2", dir);
    String a = Files.readString(bundle.resolve("rootfs/a"));
    assertThat(a).startsWith("prefix-");
    assertThat(Files.readString(bundle.resolve("rootfs/g"))).isEqualTo("two\n" + a + "hi\n");
    ImageChecks.Run env = ImageChecks.exec(java.util.List.of("grep", "-c", "GREETING=hi", bundle.resolve("config.json").toString()), dir);
    assertThat(env.output().strip()).isEqualTo("1");
  }

  @Test
  void aChangedFileReadThroughABindMountReRunsTheRun(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(
        ctx.resolve("Dockerfile"),
        """
        FROM %s
        RUN echo nonce-%s > /n
        RUN --mount=type=bind,source=input.txt,target=/in.txt cat /in.txt > /out.txt
        """.formatted(FarmUnderTest.busybox(), java.util.UUID.randomUUID()));
    Files.writeString(ctx.resolve("input.txt"), "first\n");
    FarmUnderTest.Result first = FarmUnderTest.build(ctx.toString());
    assertThat(first.exitCode()).as(first.stderr()).isZero();

    // the file is never COPYed: only the mount reads it, and that must be enough to re-run the RUN
    Files.writeString(ctx.resolve("input.txt"), "second\n");
    Path tar = dir.resolve("mounted.tar");
    FarmUnderTest.Result second = FarmUnderTest.build("-t", "mounted:2", "-o", "type=oci,dest=" + tar, ctx.toString());
    assertThat(second.exitCode()).as(second.stderr()).isZero();
    assertThat(second.stderr()).containsPattern(step(1, 2, "CACHED")).containsPattern(step(2, 2, "DONE"));
    Path bundle = ImageChecks.unpack(tar, "2", dir);
    assertThat(Files.readString(bundle.resolve("rootfs/out.txt"))).isEqualTo("second\n");
  }

  @Test
  void aBaseImagesOnbuildCopyOfAChangedFileIsNotServedFromTheCache(@TempDir Path dir) throws Exception {
    // a base image whose ONBUILD trigger copies from the context of the build that uses it
    Path baseCtx = Files.createDirectories(dir.resolve("base"));
    Files.writeString(
        baseCtx.resolve("Dockerfile"),
        "FROM %s\nRUN echo %s > /nonce\nONBUILD COPY app.txt /app.txt\n"
            .formatted(FarmUnderTest.busybox(), java.util.UUID.randomUUID()));
    String base = dev.stagefarm.testkit.RegistryFixture.shared().reference("e2e/onbuild-base:1").toString();
    FarmUnderTest.Result pushed = FarmUnderTest.build("-t", base, "--push", baseCtx.toString());
    assertThat(pushed.exitCode()).as(pushed.stderr()).isZero();

    Path ctx = Files.createDirectories(dir.resolve("app"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\nRUN cat /app.txt > /seen.txt\n".formatted(base));
    Files.writeString(ctx.resolve("app.txt"), "one\n");
    FarmUnderTest.Result first = FarmUnderTest.build(ctx.toString());
    assertThat(first.exitCode()).as(first.stderr()).isZero();

    Files.writeString(ctx.resolve("app.txt"), "two\n");
    Path tar = dir.resolve("app.tar");
    FarmUnderTest.Result second = FarmUnderTest.build("-t", "app:2", "-o", "type=oci,dest=" + tar, ctx.toString());
    assertThat(second.exitCode()).as(second.stderr()).isZero();
    assertThat(FarmUnderTest.lastBuild().getStages(0).getState()).isEqualTo(StageState.STAGE_DONE);
    Path bundle = ImageChecks.unpack(tar, "2", dir);
    assertThat(Files.readString(bundle.resolve("rootfs/app.txt"))).isEqualTo("two\n");
    assertThat(Files.readString(bundle.resolve("rootfs/seen.txt"))).isEqualTo("two\n");
  }

  @Test
  void twoBuildsNeedingTheSameStageAtTheSameTimeRunItOnce(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    // a nonce keeps the stage out of every earlier build's cache
    Files.writeString(
        ctx.resolve("Dockerfile"),
        "FROM %s\nRUN sleep 3 && echo %s > /shared\n".formatted(FarmUnderTest.busybox(), java.util.UUID.randomUUID()));
    dev.stagefarm.cli.build.ScannedContext context = dev.stagefarm.cli.build.ContextScanner.scan(ctx);
    dev.stagefarm.cli.build.BuildClient client = FarmUnderTest.client();
    client.upload(context);
    dev.stagefarm.proto.v1.SubmitBuildRequest request =
        dev.stagefarm.proto.v1.SubmitBuildRequest.newBuilder()
            .setDockerfile(com.google.protobuf.ByteString.copyFrom(Files.readAllBytes(ctx.resolve("Dockerfile"))))
            .setContextManifest(context.manifestDigest().toString())
            .build();
    String first = client.submit(request).getBuildId();
    String second = client.submit(request).getBuildId();

    BuildStatus a = client.watch(first, p -> {});
    BuildStatus b = client.watch(second, p -> {});
    assertThat(a.getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(b.getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(a.getImageDigest()).isEqualTo(b.getImageDigest());
    // the leader ran on a worker; the follower waited for it and no worker saw its stage
    assertThat(a.getStages(0).getState()).isEqualTo(StageState.STAGE_DONE);
    assertThat(b.getStages(0).getState()).isEqualTo(StageState.STAGE_CACHED);
    assertThat(b.getStages(0).getWorkerId()).isEmpty();
    assertThat(b.getStages(0).getAttempt()).isZero();
  }

  @Test
  void failingRunUnknownTargetAndSyntaxErrorExitNonZeroWithAClearMessage(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(
        ctx.resolve("Dockerfile"),
        "FROM %s\nRUN echo about to fail && exit 3\n".formatted(FarmUnderTest.busybox()));
    FarmUnderTest.Result failing = FarmUnderTest.build(ctx.toString());
    assertThat(failing.exitCode()).isNotZero();
    assertThat(failing.stderr())
        .contains("error: Dockerfile:2:")
        .contains("exit code: 3")
        .contains("output:\n  about to fail") // the output tail is part of the error itself
        .doesNotContain("Exception");
    assertThat(FarmUnderTest.lastBuild().getState()).isEqualTo(BuildState.FAILED);

    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s AS a\nRUN true\n".formatted(FarmUnderTest.busybox()));
    FarmUnderTest.Result unknown = FarmUnderTest.build("--target", "nope", ctx.toString());
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.stderr()).contains("error: ").contains("nope").doesNotContain("Exception");

    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\nFRM x\n".formatted(FarmUnderTest.busybox()));
    FarmUnderTest.Result syntax = FarmUnderTest.build(ctx.toString());
    assertThat(syntax.exitCode()).isNotZero();
    assertThat(syntax.stderr()).contains("error: Dockerfile:2:").doesNotContain("Exception");
  }
}
