package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.testkit.RegistryFixture;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker buildx's flags of {@code stagefarm build}, each through a real farm (Kafka, S3, runc workers). */
class BuildxFlagsEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A busybox image with files added, one deleted again (a whiteout) and a symlink; unique per call. */
  static Path context(Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        COPY greeting.txt /greeting.txt
        RUN echo one > /a && echo two > /b && echo "made a and b"
        RUN rm /b && ln -s /a /link
        LABEL from.dockerfile=yes
        """.formatted(FarmUnderTest.busybox()));
    // unique content: the first build of each test runs its RUNs
    Files.writeString(ctx.resolve("greeting.txt"), "hello " + UUID.randomUUID() + "\n");
    return ctx;
  }

  @Test
  void localAndTarOutputsHoldTheTargetsFilesystemWithWhiteoutsApplied(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    Path local = dir.resolve("rootfs");
    Path tar = dir.resolve("rootfs.tar");

    FarmUnderTest.Result result = FarmUnderTest.build(
        "-o", "type=local,dest=" + local, "-o", "type=tar,dest=" + tar, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(local.resolve("greeting.txt")).hasContent(Files.readString(ctx.resolve("greeting.txt")).strip());
    assertThat(local.resolve("a")).hasContent("one");
    assertThat(local.resolve("b")).doesNotExist(); // deleted by a later layer
    assertThat(Files.readSymbolicLink(local.resolve("link"))).isEqualTo(Path.of("/a"));
    assertThat(local.resolve("bin/busybox")).isRegularFile(); // the base image's layer
    assertThat(tarNames(Files.readAllBytes(tar))).contains("a", "greeting.txt", "link", "bin/busybox").doesNotContain("b");

    // -o - : the same filesystem as a tar on standard output, the summary on stderr
    FarmUnderTest.RawResult stdout = FarmUnderTest.buildWithInput(new byte[0], "--progress", "plain", "-o", "-", ctx.toString());
    assertThat(stdout.exitCode()).as(stdout.stderr()).isZero();
    assertThat(tarNames(stdout.stdout())).contains("a", "greeting.txt", "link", "bin/busybox").doesNotContain("b");
    assertThat(stdout.stderr()).contains("written to standard output (tar)");
  }

  @Test
  void labelsAnnotationsAndTheResultFilesUseBuildxKeys(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    Path oci = dir.resolve("image.tar");
    Path iid = dir.resolve("iid");
    Path metadata = dir.resolve("metadata.json");

    FarmUnderTest.RawResult quiet = FarmUnderTest.buildWithInput(new byte[0], "-q",
        "-t", "labelled:1", "--label", "org.opencontainers.image.version=1.2.3", "--label", "from.dockerfile=overridden",
        "--annotation", "org.opencontainers.image.title=demo", "--annotation", "manifest:com.example.team=builds",
        "--iidfile", iid.toString(), "--metadata-file", metadata.toString(), "-o", "type=oci,dest=" + oci,
        ctx.toString());

    assertThat(quiet.exitCode()).as(quiet.stderr()).isZero();
    String imageId = new String(quiet.stdout(), StandardCharsets.UTF_8);
    assertThat(imageId).matches("sha256:[0-9a-f]{64}\n"); // -q: the image ID and nothing else
    // -q: no progress either (the in-process farm's own log lines share stderr in this test)
    assertThat(quiet.stderr().lines()).noneMatch(l -> l.startsWith("#"));
    assertThat(iid).hasContent(imageId.strip());
    JsonNode meta = JSON.readTree(metadata.toFile());
    assertThat(meta.path("containerimage.config.digest").asText()).isEqualTo(imageId.strip());
    assertThat(meta.path("containerimage.digest").asText()).isEqualTo(FarmUnderTest.lastBuild().getImageDigest());
    assertThat(meta.path("image.name").asText()).isEqualTo("labelled:1");
    assertThat(meta.path("buildx.build.ref").asText()).isEqualTo("stagefarm/" + FarmUnderTest.lastBuild().getBuildId());

    Path layout = Files.createDirectories(dir.resolve("layout"));
    ImageChecks.exec(List.of("tar", "-xf", oci.toString(), "-C", layout.toString()), dir);
    JsonNode config = ImageChecks.imageConfig(layout, "1");
    assertThat(config.path("config").path("Labels").path("org.opencontainers.image.version").asText()).isEqualTo("1.2.3");
    assertThat(config.path("config").path("Labels").path("from.dockerfile").asText()).isEqualTo("overridden");
    String manifestDigest = meta.path("containerimage.digest").asText();
    JsonNode manifest = JSON.readTree(layout.resolve("blobs").resolve(manifestDigest.replace(':', '/')).toFile());
    assertThat(manifest.path("annotations").path("org.opencontainers.image.title").asText()).isEqualTo("demo");
    assertThat(manifest.path("annotations").path("com.example.team").asText()).isEqualTo("builds");
    String configDigest = manifest.path("config").path("digest").asText();
    assertThat(configDigest).isEqualTo(imageId.strip());
  }

  @Test
  void aDockerfileFromStandardInputBuildsTheContextDirectory(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx")); // no Dockerfile in it
    Files.writeString(ctx.resolve("data.txt"), "from the context " + UUID.randomUUID());
    byte[] dockerfile = """
        FROM %s
        COPY data.txt /data.txt
        """.formatted(FarmUnderTest.busybox()).getBytes(StandardCharsets.UTF_8);
    Path out = dir.resolve("out");

    FarmUnderTest.RawResult result = FarmUnderTest.buildWithInput(dockerfile, "--progress", "plain", "-f", "-",
        "-o", "type=local,dest=" + out, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(out.resolve("data.txt")).hasContent(Files.readString(ctx.resolve("data.txt")));
  }

  @Test
  void imageAndRegistryOutputsPushUnderTheirNames(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    RegistryFixture registry = RegistryFixture.shared();
    String image = registry.reference("e2e/output-image:1").toString();
    String pushed = registry.reference("e2e/output-registry:1").toString();

    FarmUnderTest.Result result = FarmUnderTest.build(
        "-o", "type=image,name=" + image + ",push=true", "-o", "type=registry,name=" + pushed, "--pull", ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    String digest = FarmUnderTest.lastBuild().getImageDigest();
    try (RegistryClient client = new RegistryClient(registry.settings())) {
      assertThat(client.resolveDigest(ImageReference.parse(image)).toString()).isEqualTo(digest);
      assertThat(client.resolveDigest(ImageReference.parse(pushed)).toString()).isEqualTo(digest);
    }
  }

  @Test
  void plainProgressNamesEachStepWithItsInstructionAndMarksCachedSteps(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);

    FarmUnderTest.Result first = FarmUnderTest.build(ctx.toString());

    assertThat(first.exitCode()).as(first.stderr()).isZero();
    List<String> lines = first.stderr().lines().toList();
    assertThat(lines.get(0)).isEqualTo("#1 [internal] load build context");
    assertThat(lines).anySatisfy(l -> assertThat(l).matches("#\\d+ \\[internal\\] submit and plan"));
    String run = lines.stream().filter(l -> l.matches("#\\d+ \\[0 2/4\\] RUN echo one > /a .*")).findFirst().orElseThrow();
    String vertex = run.substring(0, run.indexOf(' '));
    // its output, with seconds since the step showed, then its end, in that order
    int header = lines.indexOf(run);
    int output = indexOf(lines, vertex + " \\d+\\.\\d{3} made a and b");
    int done = indexOf(lines, vertex + " DONE \\d+\\.\\ds");
    assertThat(header).isLessThan(output);
    assertThat(output).isLessThan(done);
    assertThat(lines).anySatisfy(l -> assertThat(l).matches("#\\d+ \\[0 3/4\\] RUN rm /b && ln -s /a /link"));

    FarmUnderTest.Result again = FarmUnderTest.build(ctx.toString());
    assertThat(again.exitCode()).as(again.stderr()).isZero();
    List<String> cached = again.stderr().lines().toList();
    String step = cached.stream().filter(l -> l.matches("#\\d+ \\[0 2/4\\] RUN echo one.*")).findFirst().orElseThrow();
    assertThat(cached.get(cached.indexOf(step) + 1)).isEqualTo(step.substring(0, step.indexOf(' ')) + " CACHED");
  }

  @Test
  void rawJsonProgressIsOneSolveStatusPerLine(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);

    FarmUnderTest.RawResult result = FarmUnderTest.buildWithInput(new byte[0], "--progress", "rawjson", ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    List<JsonNode> statuses = new ArrayList<>();
    // the in-process farm's own log lines share stderr in this test: the rest must be JSON
    for (String line : result.stderr().lines().filter(l -> !l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*")).toList()) {
      statuses.add(JSON.readTree(line));
    }
    List<String> vertexNames = statuses.stream().flatMap(s -> s.path("vertexes").valueStream())
        .map(v -> v.path("name").asText()).toList();
    assertThat(vertexNames).contains("[internal] load build context", "[0 2/4] RUN echo one > /a && echo two > /b"
        + " && echo \"made a and b\"");
    List<JsonNode> counters = statuses.stream().flatMap(s -> s.path("statuses").valueStream()).toList();
    assertThat(counters).as("the context upload's byte counter").singleElement()
        .satisfies(c -> assertThat(c.path("id").asText()).isEqualTo("transferring context"))
        .satisfies(c -> assertThat(c.path("total").asLong()).isEqualTo(c.path("current").asLong()));
    List<String> logs = statuses.stream().flatMap(s -> s.path("logs").valueStream()).map(l -> {
      try {
        return new String(l.path("data").binaryValue(), StandardCharsets.UTF_8);
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
    }).toList();
    assertThat(String.join("", logs)).contains("made a and b\n");
  }

  @Test
  void aFailingRunExitsOneAndAUsageErrorTwo(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\nRUN echo %s && exit 3\n".formatted(
        FarmUnderTest.busybox(), UUID.randomUUID()));

    FarmUnderTest.Result failed = FarmUnderTest.build(ctx.toString());
    assertThat(failed.exitCode()).as(failed.stderr()).isEqualTo(ExitCodes.BUILD_FAILED);
    assertThat(failed.stderr()).contains("ERROR").contains("exit code: 3");

    FarmUnderTest.Result usage = FarmUnderTest.build("--ulimit", "nofile=2:1", ctx.toString());
    assertThat(usage.exitCode()).isEqualTo(ExitCodes.USAGE);
  }

  @Test
  void theCoordinatorComesFromStagefarmCoordinatorWhenNoFlagNamesIt(@TempDir Path dir) throws Exception {
    Path ctx = context(dir);
    Path out = dir.resolve("out");
    // a child process: the variable must be in the environment the CLI starts with
    ProcessBuilder child = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), dev.stagefarm.cli.Main.class.getName(),
        "build", "--progress", "plain", "-o", "type=local,dest=" + out, ctx.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("child.log").toFile());
    child.environment().put("STAGEFARM_COORDINATOR", FarmUnderTest.farm().endpoint());
    Process process = child.start();
    assertThat(process.waitFor(5, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
    String log = Files.readString(dir.resolve("child.log"));
    assertThat(process.exitValue()).as(log).isZero();
    // built on the test's farm (no embedded farm was started), and its build is the farm's latest
    assertThat(log).doesNotContain("start the embedded farm");
    assertThat(out.resolve("a")).hasContent("one");
    assertThat(log).contains("build " + FarmUnderTest.lastBuild().getBuildId());
  }

  @Test
  void networkNoneLeavesRunsWithLoopbackOnlyUnlessARunNamesItsOwn(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s && cat /proc/net/dev > /build-network
        RUN --network=default cat /proc/net/dev > /run-network
        """.formatted(FarmUnderTest.busybox(), UUID.randomUUID()));
    Path out = dir.resolve("out");

    FarmUnderTest.Result result = FarmUnderTest.build("--network", "none", "-o", "type=local,dest=" + out, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(interfaces(out.resolve("build-network"))).containsExactly("lo");
    // --network=default is the build's default (none), as in BuildKit
    assertThat(interfaces(out.resolve("run-network"))).containsExactly("lo");

    Path other = dir.resolve("other");
    FarmUnderTest.Result defaults = FarmUnderTest.build("-o", "type=local,dest=" + other, ctx.toString());
    assertThat(defaults.exitCode()).as(defaults.stderr()).isZero();
    assertThat(interfaces(other.resolve("build-network"))).contains("lo").hasSizeGreaterThan(1); // slirp4netns's tap
  }

  /** The interface names in a copy of /proc/net/dev. */
  private static List<String> interfaces(Path procNetDev) throws Exception {
    return Files.readAllLines(procNetDev).stream().skip(2).map(l -> l.substring(0, l.indexOf(':')).strip()).toList();
  }

  private static int indexOf(List<String> lines, String regex) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).matches(regex)) {
        return i;
      }
    }
    throw new AssertionError("no line matches " + regex + " in:\n" + String.join("\n", lines));
  }

  private static List<String> tarNames(byte[] tar) throws Exception {
    List<String> names = new ArrayList<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      TarArchiveEntry entry;
      while ((entry = in.getNextEntry()) != null) {
        names.add(entry.getName().replaceAll("/$", ""));
      }
    }
    return names;
  }
}
