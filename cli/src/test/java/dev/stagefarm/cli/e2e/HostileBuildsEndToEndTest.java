package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.TempDirectories;
import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.runtime.RunLimits;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile Dockerfiles performed for real through a farm (embedded Kafka and S3, coordinator, two
 * workers running runc) whose workers have tight limits (64 MiB of memory, 64 processes, 64 MiB of
 * disk per stage), as a shared farm would be configured. Each attack is refused with a clear error
 * or neutralised; afterwards the worker host is checked on its own file system (a target directory
 * and file outside the farm stay untouched) and a normal build on the same farm succeeds.
 *
 * <p>The same attacks at the executor level, with more variants, are in the worker's
 * HostileFileOpsTest, RunSandboxTest, RunNetworkTest and StageDiskTest; forged events and cache
 * records in FarmTrustEndToEndTest; hostile context manifests in BuildServiceImplTest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HostileBuildsEndToEndTest {
  private static EmbeddedFarm farm;
  private static Path home;
  private static String busybox;

  private Path hostDir;
  private Path hostFile;

  @BeforeAll
  static void startFarm() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    home = TempDirectories.createDeletedAtExit("stagefarm-hostile-");
    RunLimits tight = new RunLimits(64L << 20, 64, 1, 64L << 20);
    farm = PrivateFarm.start(home, 2, 0, config -> new Worker(config.withRunLimits(tight)).start());
  }

  @AfterAll
  static void stopFarm() {
    if (farm != null) {
      farm.close();
    }
  }

  @BeforeEach
  void hostTargets() throws Exception {
    // outside the farm's home: what a hostile build must never reach
    hostDir = TempDirectories.createDeletedAtExit("stagefarm-host-dir-");
    hostFile = TempDirectories.createDeletedAtExit("stagefarm-host-file-").resolve("victim");
    Files.writeString(hostFile, "host content\n");
    Files.setPosixFilePermissions(hostFile, PosixFilePermissions.fromString("rw-r--r--"));
  }

  @AfterEach
  void hostIsUntouchedAndANormalBuildSucceeds(@TempDir Path ctx) throws Exception {
    try (Stream<Path> entries = Files.list(hostDir)) {
      assertThat(entries.toList()).as("files a build wrote in the host directory").isEmpty();
    }
    assertThat(hostFile).hasContent("host content\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(hostFile))).isEqualTo("rw-r--r--");
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s > /fine && cat /fine
        """.formatted(busybox, UUID.randomUUID()));
    Result normal = build(ctx);
    assertThat(normal.exitCode()).as(normal.stderr()).isZero();
  }

  @Test
  void heredocAndArchiveThroughSymlinksToTheHostStayInTheRootfs(@TempDir Path ctx) throws Exception {
    Files.write(ctx.resolve("evil.tar"), tar("pwned-by-tar", "#!/bin/sh\n"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN ln -s %s /x && ln -s %s /victim
        COPY --chmod=4755 <<EOF /x/pwned-by-heredoc
        #!/bin/sh
        EOF
        ADD evil.tar /x/
        COPY --chmod=4755 <<EOF /victim
        overwritten
        EOF
        RUN test -u %s/pwned-by-heredoc && test -f %s/pwned-by-tar && grep -q overwritten %s
        """.formatted(busybox, hostDir, hostFile, hostDir, hostDir, hostFile));

    Result result = build(ctx);

    // BuildKit's semantics: the links resolve inside the rootfs, where the files land
    assertThat(result.exitCode()).as(result.stderr()).isZero();
  }

  @Test
  void aCacheMountIdCannotReachTheWorkersOwnDirectories(@TempDir Path ctx) throws Exception {
    String marker = "pwned-" + UUID.randomUUID();
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN --mount=type=cache,id=..,target=/c echo x > /c/%s
        RUN --mount=type=cache,id=../../layers,target=/c echo x > /c/%s
        RUN --mount=type=cache,id=/../../..%s,target=/c echo x > /c/%s
        """.formatted(busybox, marker, marker, hostDir, marker));

    Result result = build(ctx);

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    // the files exist only inside the workers' cache-mount directories
    try (Stream<Path> files = Files.walk(home.resolve("workers"))) {
      List<Path> written = files.filter(p -> p.getFileName().toString().equals(marker)).toList();
      assertThat(written).isNotEmpty().allSatisfy(p ->
          assertThat(home.resolve("workers").relativize(p).toString()).matches("worker-\\d+/cache-mounts/[0-9a-f]{64}/" + marker));
    }
  }

  @Test
  void aRunReachesNoneOfTheFarmsOwnServices(@TempDir Path ctx) throws Exception {
    int kafka = Integer.parseInt(farm.kafkaBootstrap().substring(farm.kafkaBootstrap().lastIndexOf(':') + 1));
    int s3 = URI.create(farm.s3Endpoint()).getPort();
    int grpc = Integer.parseInt(farm.endpoint().substring(farm.endpoint().lastIndexOf(':') + 1));
    StringBuilder probes = new StringBuilder();
    for (int port : new int[] {kafka, s3, grpc}) {
      for (String address : new String[] {"10.0.2.2", "127.0.0.1", "169.254.169.254"}) {
        // REACH''ED: the progress shows the RUN's text, so only the output can hold the word REACHED
        probes.append("nc -w 3 %s %d </dev/null >/dev/null 2>&1 && echo REACH''ED %s:%d; ".formatted(address, port, address, port));
      }
    }
    String probe = UUID.randomUUID().toString();
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN %s echo pro''bed-%s
        """.formatted(busybox, probes, probe));

    Result result = build(ctx);

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stderr() + result.stdout()).contains("probed-" + probe).doesNotContain("REACHED");
  }

  @Test
  void aMemoryHogFailsItsBuildNamingTheLimit(@TempDir Path ctx) throws Exception {
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s && head -c 400m /dev/zero | tail -n 1 > /dev/null
        """.formatted(busybox, UUID.randomUUID()));

    Result result = build(ctx);

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("Dockerfile:2", "exceeded the worker's memory limit run-memory=64MiB")
        .doesNotContain("Exception");
  }

  @Test
  void aForkBombFailsItsBuildNamingTheLimit(@TempDir Path ctx) throws Exception {
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s; b() { b | b & }; b; sleep 2; exit 3
        """.formatted(busybox, UUID.randomUUID()));

    Result result = build(ctx);

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("Dockerfile:2", "reached the worker's pids limit run-pids=64")
        .doesNotContain("Exception");
  }

  @Test
  void aStageThatFillsItsDiskFailsNamingTheLimit(@TempDir Path ctx) throws Exception {
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s && dd if=/dev/zero of=/filler bs=1M count=500
        """.formatted(busybox, UUID.randomUUID()));

    Result result = build(ctx);

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.stderr()).contains("Dockerfile:2", "used up its disk", "stage-disk=64MiB")
        .doesNotContain("Exception");
  }

  @Test
  void deeplyNestedExpansionsAreRefusedBeforeAnyStageRuns() throws Exception {
    // straight to the coordinator, as a hostile client would (the CLI would refuse it itself)
    String nested = "${a:-".repeat(2000) + "x" + "}".repeat(2000);
    String dockerfile = "FROM " + busybox + "\nENV v=" + nested + "\nRUN echo $v\n";
    BuildClient client = new BuildClient(farm.channel(), farm.endpoint());

    BuildStatus submitted = client.submit(SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8(dockerfile)).setDockerfileName("Dockerfile").build());
    BuildStatus finished = BuildClient.isFinalState(submitted) ? submitted : client.watch(submitted.getBuildId(), p -> {});

    assertThat(finished.getState()).isEqualTo(BuildState.FAILED);
    assertThat(finished.getError()).contains("Dockerfile:2").containsIgnoringCase("nest").doesNotContain("Exception");
    assertThat(finished.getStagesList()).allSatisfy(stage -> assertThat(stage.getAttempt()).isZero());
  }

  record Result(int exitCode, String stdout, String stderr) {}

  /** {@code stagefarm build --coordinator <farm> --progress plain CTX}, output captured. */
  private static synchronized Result build(Path ctx) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
      code = Main.execute("build", "--coordinator", farm.endpoint(), "--progress", "plain", ctx.toString());
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    Result result = new Result(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
    err.println("--- stagefarm build → " + code + "\n" + result.stderr() + result.stdout());
    return result;
  }

  /** A tar with one executable file. */
  private static byte[] tar(String name, String content) throws Exception {
    var bytes = new ByteArrayOutputStream();
    try (var tar = new TarArchiveOutputStream(bytes)) {
      byte[] data = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry e = new TarArchiveEntry(name);
      e.setSize(data.length);
      e.setMode(04755);
      tar.putArchiveEntry(e);
      tar.write(data);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }
}
