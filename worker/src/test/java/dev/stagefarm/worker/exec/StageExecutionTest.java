package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.StageHarness.completed;
import static dev.stagefarm.worker.StageHarness.newLayers;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.worker.StageHarness;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stages really executed by a worker: real Kafka, real S3 (S3Proxy), runc over overlayfs, the
 * busybox base image. Each test publishes a StageTask and checks the completed/failed event and
 * the layers in the store.
 */
class StageExecutionTest {
  private static StageHarness farm;

  @BeforeAll
  static void start() throws Exception {
    farm = new StageHarness(2);
  }

  @AfterAll
  static void stop() {
    farm.close();
  }

  @Test
  void runsShellExecAndHeredocForms() throws Exception {
    String dockerfile = """
        FROM busybox
        RUN echo shell-form > /shell.txt
        RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt"]
        RUN <<EOF
        echo heredoc-1 > /heredoc.txt
        echo heredoc-2 >> /heredoc.txt
        EOF
        """;
    ImageState base = farm.busybox();
    String key = "test-key-" + java.util.UUID.randomUUID();
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, base)
        .addInstructions(StageHarness.cacheKey(key + "-0"))
        .addInstructions(StageHarness.cacheKey(""))
        .addInstructions(StageHarness.cacheKey(key + "-2"))
        .build()));
    assertThat(newLayers(base, result)).hasSize(3);
    // each keyed instruction's result is recorded under cache/<key>: its layer and the config after it
    CacheRecord first = CacheRecord.parseFrom(farm.store.getRecord(key + "-0").orElseThrow());
    assertThat(first.getLayer()).isEqualTo(newLayers(base, result).get(0));
    assertThat(farm.store.getRecord(key + "-2")).isPresent();
    assertThat(CacheRecord.parseFrom(farm.store.getRecord(key + "-2").orElseThrow()).getConfigJson())
        .isEqualTo(result.getConfigJson());
    Path root = farm.unpack(result);
    assertThat(Files.readString(root.resolve("shell.txt"))).isEqualTo("shell-form\n");
    assertThat(Files.readString(root.resolve("exec.txt"))).isEqualTo("exec-form\n");
    assertThat(Files.readString(root.resolve("heredoc.txt"))).isEqualTo("heredoc-1\nheredoc-2\n");
    // mount points runc needed (/proc, /dev, /etc/hosts …) are not in the layers
    for (Layer layer : newLayers(base, result)) {
      assertThat(farm.layerEntries(layer).keySet()).noneMatch(n -> n.startsWith("proc") || n.startsWith("sys/")
          || n.equals("etc/hosts") || n.equals("etc/resolv.conf"));
    }
  }

  @Test
  void aRunThatDeletesBaseFilesProducesWhiteouts() throws Exception {
    String dockerfile = """
        FROM busybox
        RUN rm /etc/group && rm -r /home/app
        """;
    ImageState base = farm.busybox();
    assertThat(Files.exists(farm.unpack(base).resolve("etc/group"))).isTrue();
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, base).build()));
    List<Layer> layers = newLayers(base, result);
    assertThat(layers).hasSize(1);
    assertThat(farm.layerEntries(layers.get(0)).keySet()).contains("etc/.wh.group", "home/.wh.app");
    Path root = farm.unpack(result);
    assertThat(root.resolve("etc/group")).doesNotExist();
    assertThat(root.resolve("home/app")).doesNotExist();
    assertThat(root.resolve("etc/passwd")).exists();
  }

  @Test
  void copiesFromTheContextWithWildcardsChownAndChmod() throws Exception {
    String context = farm.context(Map.of(
        "a.txt", "A", "b.txt", "B", "c.md", "C", "dir/x.txt", "X", "dir/sub/y.txt", "Y"));
    String dockerfile = """
        FROM busybox
        COPY *.txt /dst/
        COPY --chown=app:app --chmod=0640 dir /owned/
        COPY <<EOF /inline.conf
        inline=yes
        EOF
        COPY <<A <<B /inline-dir/
        first
        A
        second
        B
        """;
    ImageState base = farm.busybox();
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, base).setContextManifest(context).build()));
    Path root = farm.unpack(result);
    assertThat(Files.readString(root.resolve("dst/a.txt"))).isEqualTo("A");
    assertThat(Files.readString(root.resolve("dst/b.txt"))).isEqualTo("B");
    assertThat(root.resolve("dst/c.md")).doesNotExist();
    Path x = root.resolve("owned/x.txt");
    assertThat(Files.readString(x)).isEqualTo("X");
    assertThat(Files.readString(root.resolve("owned/sub/y.txt"))).isEqualTo("Y");
    assertThat(Files.getAttribute(x, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
    assertThat(Files.getAttribute(x, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
    assertThat((Integer) Files.getAttribute(x, "unix:mode") & 07777).isEqualTo(0640);
    assertThat(Files.getAttribute(root.resolve("dst/a.txt"), "unix:uid")).isEqualTo(0);
    assertThat(Files.readString(root.resolve("inline.conf"))).isEqualTo("inline=yes\n");
    assertThat(Files.readString(root.resolve("inline-dir/A"))).isEqualTo("first\n");
    assertThat(Files.readString(root.resolve("inline-dir/B"))).isEqualTo("second\n");
  }

  @Test
  void aMissingCopySourceFailsNamingThePath() throws Exception {
    String context = farm.context(Map.of("present.txt", "here"));
    String dockerfile = """
        FROM busybox
        COPY missing.txt /x
        """;
    StageEvent event = farm.run(farm.task(dockerfile, 0, farm.busybox()).setContextManifest(context).build());
    assertThat(event.hasFailed()).isTrue();
    assertThat(event.getFailed().getMessage()).contains("missing.txt").contains("not found");
    assertThat(event.getFailed().getLine()).isEqualTo(2);
    assertThat(event.getFailed().getRetriable()).isFalse();
  }

  @Test
  void copiesFromAnotherStagesResult() throws Exception {
    String dockerfile = """
        FROM busybox AS build
        RUN mkdir /out && echo built-artifact > /out/artifact.txt

        FROM busybox
        COPY --from=build /out/artifact.txt /app/
        RUN test -f /app/artifact.txt && test ! -e /out && echo ok > /checked

        FROM build AS derived
        RUN test -f /out/artifact.txt && echo "flavour=$FLAVOUR" > /derived.txt
        """;
    ImageState base = farm.busybox();
    ImageState build = completed(farm.run(farm.task(dockerfile, 0, base).build()));
    // the stage's own upper dir went into the worker's layer cache: a dependent stage here need not extract it
    String builtDiffId = build.getLayers(build.getLayersCount() - 1).getDiffId();
    assertThat(farm.workDir.resolve("work/layers").resolve(builtDiffId.substring("sha256:".length()))).isDirectory();
    ImageState result = completed(farm.run(farm.task(dockerfile, 1, base)
        .addInputs(StageHarness.input("build", build)).build()));
    assertThat(newLayers(base, result)).hasSize(2);
    Path root = farm.unpack(result);
    assertThat(Files.readString(root.resolve("app/artifact.txt"))).isEqualTo("built-artifact\n");
    assertThat(root.resolve("out")).doesNotExist();

    // a stage FROM another stage's result starts from its layers and inherits its ARG values
    String withArg = dockerfile.replace("FROM busybox AS build\n", "FROM busybox AS build\nARG FLAVOUR=vanilla\n");
    ImageState parent = completed(farm.run(farm.task(withArg, 0, base).build()));
    ImageState derived = completed(farm.run(farm.task(withArg, 2, parent.toBuilder().setOrigin("stage:build").build())
        .build()));
    assertThat(Files.readString(farm.unpack(derived).resolve("derived.txt"))).isEqualTo("flavour=vanilla\n");
  }

  @Test
  void metadataInstructionsUpdateTheImageConfigLikeBuildKit() throws Exception {
    String dockerfile = """
        FROM busybox
        ARG VERSION=1.2
        ENV APP_HOME=/srv/app GREETING="hello world"
        LABEL org.example.version=$VERSION maintainer=me
        WORKDIR /srv
        WORKDIR app
        USER app:app
        EXPOSE 8080 53/udp
        VOLUME ["/data"]
        ENTRYPOINT ["/bin/app"]
        SHELL ["/bin/sh", "-ec"]
        STOPSIGNAL SIGTERM
        HEALTHCHECK --interval=30s --retries=2 CMD wget -q localhost:8080
        ONBUILD RUN echo triggered
        """;
    ImageState base = farm.busybox();
    ImageConfig baseConfig = ImageJson.readConfig(base.getConfigJson().toByteArray());
    assertThat(baseConfig.config().cmd()).contains(List.of("sh"));
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, base).build()));
    // only the two WORKDIRs change the filesystem (BuildKit creates the directory)
    assertThat(newLayers(base, result)).hasSize(2);
    assertThat(farm.unpack(result).resolve("srv/app")).isDirectory();
    ContainerConfig c = ImageJson.readConfig(result.getConfigJson().toByteArray()).config();
    assertThat(c.envValue("APP_HOME")).contains("/srv/app");
    assertThat(c.envValue("GREETING")).contains("hello world");
    assertThat(c.envValue("VERSION")).isEmpty(); // ARGs are not stored in the image
    assertThat(c.labels()).containsEntry("org.example.version", "1.2").containsEntry("maintainer", "me");
    assertThat(c.workingDir()).isEqualTo("/srv/app");
    assertThat(c.user()).isEqualTo("app:app");
    assertThat(c.exposedPorts()).containsExactly("53/udp", "8080/tcp");
    assertThat(c.volumes()).containsExactly("/data");
    assertThat(c.entrypoint()).contains(List.of("/bin/app"));
    assertThat(c.cmd()).isEmpty(); // ENTRYPOINT resets the inherited CMD
    assertThat(c.shell()).containsExactly("/bin/sh", "-ec");
    assertThat(c.stopSignal()).isEqualTo("SIGTERM");
    assertThat(c.healthcheck()).isPresent();
    assertThat(c.healthcheck().get().test()).containsExactly("CMD-SHELL", "wget -q localhost:8080");
    assertThat(c.healthcheck().get().retries()).isEqualTo(2);
    assertThat(c.onBuild()).containsExactly("RUN echo triggered");
    ImageConfig image = ImageJson.readConfig(result.getConfigJson().toByteArray());
    assertThat(image.history()).hasSizeGreaterThan(baseConfig.history().size());
    assertThat(image.history().getLast().emptyLayer()).isTrue();

    // a stage built on that image runs its ONBUILD trigger first; CMD set before ENTRYPOINT survives
    String child = """
        FROM parent
        CMD ["--serve"]
        ENTRYPOINT ["/bin/other"]
        """;
    ImageState parent = result.toBuilder().setOrigin("registry/parent").build();
    StageEvent childEvent = farm.run(farm.task(child, 0, parent).build());
    ImageState childResult = completed(childEvent);
    ContainerConfig cc = ImageJson.readConfig(childResult.getConfigJson().toByteArray()).config();
    assertThat(cc.cmd()).contains(List.of("--serve"));
    assertThat(cc.onBuild()).isEmpty();
    assertThat(farm.events(childEvent.getBuildId())).anySatisfy(e ->
        assertThat(e.hasLog() && e.getLog().getData().toString(StandardCharsets.UTF_8).contains("triggered")).isTrue());
  }

  @Test
  void aCacheMountIsSharedBetweenStagesAndStaysOutOfLayers() throws Exception {
    String first = """
        FROM busybox
        RUN --mount=type=cache,target=/cache,id=shared-cache echo from-first-stage > /cache/value
        """;
    String second = """
        FROM busybox
        RUN --mount=type=cache,target=/var/cache/x,id=shared-cache cp /var/cache/x/value /got.txt
        """;
    ImageState base = farm.busybox();
    ImageState a = completed(farm.run(farm.task(first, 0, base).build()));
    for (Layer layer : newLayers(base, a)) {
      assertThat(farm.layerEntries(layer).keySet()).noneMatch(n -> n.contains("value"));
    }
    ImageState b = completed(farm.run(farm.task(second, 0, base).build()));
    assertThat(Files.readString(farm.unpack(b).resolve("got.txt"))).isEqualTo("from-first-stage\n");
  }

  @Test
  void aSecretIsReadableDuringRunAndInNoLayer() throws Exception {
    String dockerfile = """
        FROM busybox
        RUN --mount=type=secret,id=token test "$(sha256sum /run/secrets/token | cut -c1-64)" = "%s" && echo verified > /verified.txt
        RUN --mount=type=secret,id=token,target=/etc/app-token cp /etc/app-token /copied-by-user.txt && rm /copied-by-user.txt
        """.formatted(dev.stagefarm.oci.Digest.of(StageHarness.SECRET_VALUE).hex());
    ImageState base = farm.busybox();
    StageEvent event = farm.run(farm.task(dockerfile, 0, base).build());
    ImageState result = completed(event);
    assertThat(Files.readString(farm.unpack(result).resolve("verified.txt"))).isEqualTo("verified\n");
    byte[] secret = StageHarness.SECRET_VALUE.getBytes(StandardCharsets.UTF_8);
    for (Layer layer : newLayers(base, result)) {
      for (Map.Entry<String, byte[]> entry : farm.layerEntries(layer).entrySet()) {
        assertThat(entry.getKey()).doesNotContain("secrets").doesNotContain("app-token");
        assertThat(new String(entry.getValue(), StandardCharsets.ISO_8859_1))
            .doesNotContain(new String(secret, StandardCharsets.ISO_8859_1));
      }
    }
    assertThat(farm.events(event.getBuildId())).noneSatisfy(e ->
        assertThat(e.toByteString().toString(StandardCharsets.ISO_8859_1)).contains(StageHarness.SECRET_VALUE));
  }

  @Test
  void aFailingRunReportsExitCodeAndOutputTail() throws Exception {
    String dockerfile = """
        FROM busybox
        RUN echo fine > /fine
        RUN echo about-to-fail && echo on-stderr >&2 && exit 3
        """;
    StageEvent event = farm.run(farm.task(dockerfile, 0, farm.busybox()).build());
    assertThat(event.hasFailed()).isTrue();
    StageEvent.Failed failed = event.getFailed();
    assertThat(failed.getExitCode()).isEqualTo(3);
    assertThat(failed.getInstructionIndex()).isEqualTo(1);
    assertThat(failed.getLine()).isEqualTo(3);
    assertThat(failed.getRetriable()).isFalse();
    assertThat(failed.getMessage()).contains("exit code: 3");
    assertThat(failed.getOutputTail()).contains("about-to-fail").contains("on-stderr");
    assertThat(farm.events(event.getBuildId())).anySatisfy(e ->
        assertThat(e.hasLog() && e.getLog().getData().toString(StandardCharsets.UTF_8).contains("about-to-fail")).isTrue());
  }

  @Test
  void bindAndTmpfsMountsAndNetworkNone() throws Exception {
    String context = farm.context(Map.of("conf/app.conf", "setting=1\n"));
    String dockerfile = """
        FROM busybox
        RUN --mount=type=bind,source=conf,target=/mnt/conf cp /mnt/conf/app.conf /copied.conf
        RUN --mount=type=tmpfs,target=/scratch echo temp > /scratch/t && cp /scratch/t /from-tmpfs
        RUN --network=none cat /proc/net/dev | grep -c : > /interfaces
        """;
    ImageState base = farm.busybox();
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, base).setContextManifest(context).build()));
    Path root = farm.unpack(result);
    assertThat(Files.readString(root.resolve("copied.conf"))).isEqualTo("setting=1\n");
    assertThat(Files.readString(root.resolve("from-tmpfs"))).isEqualTo("temp\n");
    assertThat(Files.readString(root.resolve("interfaces")).strip()).isEqualTo("1"); // loopback only
    assertThat(root.resolve("mnt")).doesNotExist();
    assertThat(root.resolve("scratch")).doesNotExist();
  }

  @Test
  void addExtractsALocalTarAndFetchesAUrlWithAChecksum() throws Exception {
    byte[] tar = tarOf("pkg/readme.txt", "inside the tar");
    byte[] payload = "downloaded".getBytes(StandardCharsets.UTF_8);
    var server = serve("/files/tool.bin", payload);
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/tool.bin";
      String context = farm.contextBytes(Map.of("bundle.tar", tar));
      String good = dev.stagefarm.oci.Digest.of(payload).toString();
      String dockerfile = """
          FROM busybox
          ADD bundle.tar /opt/
          ADD --checksum=%s %s /downloads/
          """.formatted(good, url);
      ImageState result = completed(farm.run(farm.task(dockerfile, 0, farm.busybox()).setContextManifest(context).build()));
      Path root = farm.unpack(result);
      assertThat(Files.readString(root.resolve("opt/pkg/readme.txt"))).isEqualTo("inside the tar");
      assertThat(Files.readString(root.resolve("downloads/tool.bin"))).isEqualTo("downloaded");

      String wrong = "sha256:" + "0".repeat(64);
      StageEvent failed = farm.run(farm.task("FROM busybox\nADD --checksum=" + wrong + " " + url + " /x\n", 0,
          farm.busybox()).build());
      assertThat(failed.hasFailed()).isTrue();
      assertThat(failed.getFailed().getMessage()).contains("checksum mismatch");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void addUnpacksALocalArchiveWithChownButKeepsItsModesAndSkipsNoEntry() throws Exception {
    // BuildKit (solver/llbsolver/file unpack): --chown overrides every entry's owner; --chmod and
    // --exclude do not reach inside an archive, whose modes and mtimes are kept
    byte[] tar = tarOf(Map.of("pkg/bin/tool", "tool", "pkg/debug.log", "log"), 4242, 0700);
    String context = farm.contextBytes(Map.of("bundle.tar", tar));
    String dockerfile = """
        FROM busybox
        ADD --chown=app:app --chmod=0644 --exclude=*.log bundle.tar /etc/
        ADD bundle.tar /as-is/
        """;
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, farm.busybox()).setContextManifest(context).build()));
    Path root = farm.unpack(result);
    Path tool = root.resolve("etc/pkg/bin/tool");
    assertThat(Files.readString(tool)).isEqualTo("tool");
    assertThat(Files.getAttribute(tool, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
    assertThat(Files.getAttribute(tool, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
    assertThat(Files.getAttribute(root.resolve("etc/pkg/bin"), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
    assertThat((Integer) Files.getAttribute(tool, "unix:mode") & 07777).isEqualTo(0700);
    assertThat(Files.readString(root.resolve("etc/pkg/debug.log"))).isEqualTo("log");
    // files already in the destination are not re-owned
    assertThat(Files.getAttribute(root.resolve("etc/passwd"), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0);
    // without --chown the archive's owners stay
    assertThat(Files.getAttribute(root.resolve("as-is/pkg/bin/tool"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(4242);
  }

  @Test
  void addUnpacksADownloadedArchiveOnlyWithUnpackTrue() throws Exception {
    byte[] archive = gzip(tarOf(Map.of("pkg/readme.txt", "remote tar"), 0, 0644));
    var server = serve("/files/bundle.tar.gz", archive);
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/bundle.tar.gz";
      String dockerfile = """
          FROM busybox
          ADD --unpack=true --chown=app:app %s /unpacked/
          ADD %s /plain/
          """.formatted(url, url);
      ImageState result = completed(farm.run(farm.task(dockerfile, 0, farm.busybox()).build()));
      Path root = farm.unpack(result);
      Path readme = root.resolve("unpacked/pkg/readme.txt");
      assertThat(Files.readString(readme)).isEqualTo("remote tar");
      assertThat(Files.getAttribute(readme, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
      assertThat(root.resolve("unpacked/bundle.tar.gz")).doesNotExist();
      assertThat(Files.readAllBytes(root.resolve("plain/bundle.tar.gz"))).isEqualTo(archive);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void copyParentsKeepsOnlyThePathAfterThePivot() throws Exception {
    String context = farm.context(Map.of(
        "x/y/file.txt", "F", "x/y/z/deep.txt", "D", "src/a/one.txt", "1", "src/b/two.txt", "2"));
    String dockerfile = """
        FROM busybox
        COPY --parents ./x/./y/file.txt /p1/
        COPY --parents x/./y/*/*.txt /p2/
        COPY --parents src/*/./*.txt /p3/
        COPY ./x/./y/file.txt /p4/
        """;
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, farm.busybox()).setContextManifest(context).build()));
    Path root = farm.unpack(result);
    assertThat(Files.readString(root.resolve("p1/y/file.txt"))).isEqualTo("F");
    assertThat(root.resolve("p1/x")).doesNotExist();
    assertThat(Files.readString(root.resolve("p2/y/z/deep.txt"))).isEqualTo("D");
    assertThat(root.resolve("p2/x")).doesNotExist();
    assertThat(Files.readString(root.resolve("p3/one.txt"))).isEqualTo("1");
    assertThat(Files.readString(root.resolve("p3/two.txt"))).isEqualTo("2");
    assertThat(Files.readString(root.resolve("p4/file.txt"))).isEqualTo("F"); // without --parents: a plain path
  }

  @Test
  void aCacheMountWithFromStartsAsACopyOfThatStagesPath() throws Exception {
    String dockerfile = """
        FROM busybox AS seed
        RUN mkdir -p /seed/data && echo seeded > /seed/data/hello

        FROM busybox
        RUN --mount=type=cache,target=/c,id=seeded-cache,from=seed,source=/seed/data cat /c/hello > /got && echo kept > /c/added

        FROM busybox
        RUN --mount=type=cache,target=/c,id=seeded-cache,from=seed,source=/seed/data cat /c/added > /second
        """;
    ImageState base = farm.busybox();
    ImageState seed = completed(farm.run(farm.task(dockerfile, 0, base).build()));
    ImageState first = completed(farm.run(farm.task(dockerfile, 1, base)
        .addInputs(StageHarness.input("seed", seed)).build()));
    assertThat(Files.readString(farm.unpack(first).resolve("got"))).isEqualTo("seeded\n");
    for (Layer layer : newLayers(base, first)) {
      assertThat(farm.layerEntries(layer).keySet()).noneMatch(n -> n.contains("hello") || n.contains("added"));
    }
    // the seed is copied once, when the cache is created: later RUNs see what earlier ones wrote
    ImageState second = completed(farm.run(farm.task(dockerfile, 2, base)
        .addInputs(StageHarness.input("seed", seed)).build()));
    assertThat(Files.readString(farm.unpack(second).resolve("second"))).isEqualTo("kept\n");
    // the stage's own files are untouched by the cache's writes
    assertThat(farm.unpack(seed).resolve("seed/data/added")).doesNotExist();
  }

  private static byte[] tarOf(Map<String, String> files, int uid, int mode) throws Exception {
    var bytes = new java.io.ByteArrayOutputStream();
    try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
      for (Map.Entry<String, String> f : new java.util.TreeMap<>(files).entrySet()) {
        byte[] data = f.getValue().getBytes(StandardCharsets.UTF_8);
        var entry = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(f.getKey());
        entry.setSize(data.length);
        entry.setMode(mode);
        entry.setIds(uid, uid);
        out.putArchiveEntry(entry);
        out.write(data);
        out.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static byte[] gzip(byte[] data) throws Exception {
    var bytes = new java.io.ByteArrayOutputStream();
    try (var out = new java.util.zip.GZIPOutputStream(bytes)) {
      out.write(data);
    }
    return bytes.toByteArray();
  }

  private static byte[] tarOf(String name, String content) throws Exception {
    return tarOf(Map.of(name, content), 0, 0644);
  }

  /** A local HTTP server answering {@code path} with {@code body}; the caller stops it. */
  private static com.sun.net.httpserver.HttpServer serve(String path, byte[] body) throws Exception {
    var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(path, exchange -> {
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    return server;
  }

  @Test
  void copyWithParentsAndExclude() throws Exception {
    String context = farm.context(Map.of(
        "src/a/one.txt", "1", "src/b/two.txt", "2", "src/b/skip.log", "no", "other/three.txt", "3"));
    String dockerfile = """
        FROM busybox
        COPY --parents src/*/*.txt /tree/
        COPY --exclude=*.log src /flat/
        """;
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, farm.busybox()).setContextManifest(context).build()));
    Path root = farm.unpack(result);
    assertThat(Files.readString(root.resolve("tree/src/a/one.txt"))).isEqualTo("1");
    assertThat(Files.readString(root.resolve("tree/src/b/two.txt"))).isEqualTo("2");
    assertThat(root.resolve("tree/src/b/skip.log")).doesNotExist();
    assertThat(Files.readString(root.resolve("flat/b/two.txt"))).isEqualTo("2");
    assertThat(root.resolve("flat/b/skip.log")).doesNotExist();
  }

  @Test
  void runsAsUserInWorkdirWithEnvAndArgs() throws Exception {
    String dockerfile = """
        FROM busybox
        ARG FROM_ARG=arg-value
        ENV FROM_ENV=env-value
        USER app
        WORKDIR /home/app/work
        RUN id -u > uid.txt && pwd > pwd.txt && echo "$FROM_ARG $FROM_ENV $HOME" > vars.txt
        """;
    ImageState result = completed(farm.run(farm.task(dockerfile, 0, farm.busybox())
        .putBuildArgs("FROM_ARG", "overridden").build()));
    Path work = farm.unpack(result).resolve("home/app/work");
    assertThat(Files.readString(work.resolve("uid.txt"))).isEqualTo("1000\n");
    assertThat(Files.readString(work.resolve("pwd.txt"))).isEqualTo("/home/app/work\n");
    assertThat(Files.readString(work.resolve("vars.txt"))).isEqualTo("overridden env-value /home/app\n");
    assertThat(Files.getAttribute(work, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(1000);
  }

  @Test
  void instructionsWhoseKeyIsRecordedAreTakenFromTheCache() throws Exception {
    String key = "chain-" + java.util.UUID.randomUUID();
    String first = """
        FROM busybox
        RUN echo executing-step-one && echo one > /one.txt
        ENV STEP=two
        RUN echo two > /two.txt
        """;
    ImageState base = farm.busybox();
    ImageState a = completed(farm.run(farm.task(first, 0, base)
        .addInstructions(StageHarness.cacheKey(key + "-0"))
        .addInstructions(StageHarness.cacheKey(key + "-1"))
        .addInstructions(StageHarness.cacheKey(key + "-2a"))
        .build()));
    // same first two instructions (same keys), another third one
    String second = first.replace("RUN echo two > /two.txt", "RUN echo changed > /two.txt");
    StageEvent event = farm.run(farm.task(second, 0, base)
        .setReuseCachedInstructions(true)
        .addInstructions(StageHarness.cacheKey(key + "-0"))
        .addInstructions(StageHarness.cacheKey(key + "-1"))
        .addInstructions(StageHarness.cacheKey(key + "-2b"))
        .build());
    ImageState b = completed(event);
    List<StageEvent.InstructionDone> done = farm.events(event.getBuildId()).stream()
        .filter(StageEvent::hasInstructionDone).map(StageEvent::getInstructionDone).toList();
    assertThat(done).extracting(StageEvent.InstructionDone::getCached).containsExactly(true, true, false);
    assertThat(farm.events(event.getBuildId())).noneSatisfy(e -> assertThat(
        e.hasLog() && e.getLog().getData().toStringUtf8().contains("executing-step-one")).isTrue());
    assertThat(newLayers(base, b).get(0)).isEqualTo(newLayers(base, a).get(0));
    Path root = farm.unpack(b);
    assertThat(Files.readString(root.resolve("one.txt"))).isEqualTo("one\n");
    assertThat(Files.readString(root.resolve("two.txt"))).isEqualTo("changed\n");
    ImageConfig config = ImageJson.readConfig(b.getConfigJson().toByteArray());
    assertThat(config.config().envValue("STEP")).contains("two");

    // without the opt-in (a --no-cache build) every instruction runs again
    StageEvent again = farm.run(farm.task(second, 0, base)
        .addInstructions(StageHarness.cacheKey(key + "-0"))
        .addInstructions(StageHarness.cacheKey(key + "-1"))
        .addInstructions(StageHarness.cacheKey(key + "-2b"))
        .build());
    completed(again);
    assertThat(farm.events(again.getBuildId()).stream().filter(StageEvent::hasInstructionDone)
        .map(e -> e.getInstructionDone().getCached()).toList()).containsExactly(false, false, false);
    assertThat(config.diffIds()).hasSize(b.getLayersCount());
  }

  @Test
  void anInsecureRunFailsWhenTheWorkerDoesNotAllowIt() throws Exception {
    String dockerfile = """
        FROM busybox
        RUN echo fine > /fine
        RUN --security=insecure touch /should-not-run
        """;
    StageEvent event = farm.run(farm.task(dockerfile, 0, farm.busybox()).build());
    assertThat(event.hasFailed()).isTrue();
    assertThat(event.getFailed().getMessage()).contains("--security=insecure is not allowed on this farm");
    assertThat(event.getFailed().getLine()).isEqualTo(3);
    assertThat(event.getFailed().getRetriable()).isFalse();
  }

  @Test
  void leavesNoMountsOrContainersBehind() throws Exception {
    completed(farm.run(farm.task("FROM busybox\nRUN true\n", 0, farm.busybox()).build()));
    String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
    assertThat(mounts).doesNotContain(farm.workDir.resolve("work/stages").toString());
    assertThat(Files.list(farm.workDir.resolve("work/stages")).toList()).isEmpty();
    Process list = new ProcessBuilder("runc", "--root", farm.workDir.resolve("work/runc").toString(), "list", "-q").start();
    assertThat(new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()).isEmpty();
    assertThat(Optional.of(list.waitFor())).contains(0);
  }
}
