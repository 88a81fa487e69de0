package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.build.TarContextTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * buildx's {@code --add-host}, {@code --shm-size}, {@code --ulimit}, {@code --no-cache-filter},
 * {@code --ssh} and tarball contexts, through a real farm (Kafka, S3, runc workers), for build and bake.
 */
class RunFlagsEndToEndTest {

  /** A RUN that writes what it saw of /etc/hosts, /dev/shm and its rlimits into the image. */
  private static Path probeContext(Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %s
        RUN echo %s && cat /etc/hosts > /hosts.txt && df -k /dev/shm | tail -n 1 > /shm.txt \\
            && ulimit -Sn > /nofile.txt && ulimit -Hn >> /nofile.txt && ulimit -Sc > /core.txt
        """.formatted(FarmUnderTest.busybox(), UUID.randomUUID()));
    return ctx;
  }

  @Test
  void addHostShmSizeAndUlimitsReachTheRunAndItsCacheKey(@TempDir Path dir) throws Exception {
    Path ctx = probeContext(dir);
    Path out = dir.resolve("out");
    List<String> flags = List.of("--add-host", "db.internal:10.1.2.3", "--add-host", "v6.internal=fd00::7",
        "--shm-size", "96m", "--ulimit", "nofile=1024:2048", "--ulimit", "core=0");

    FarmUnderTest.Result result = build(flags, "-o", "type=local,dest=" + out, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(Files.readString(out.resolve("hosts.txt"))).contains("10.1.2.3\tdb.internal\n", "fd00::7\tv6.internal\n",
        "127.0.0.1\tlocalhost");
    assertThat(Files.readString(out.resolve("shm.txt")).split("\\s+")[1]).isEqualTo(Long.toString(96 * 1024));
    assertThat(Files.readAllLines(out.resolve("nofile.txt"))).containsExactly("1024", "2048");
    assertThat(Files.readString(out.resolve("core.txt")).strip()).isEqualTo("0");

    // the same flags hit the cache; another extra host is another RUN (as in BuildKit)
    FarmUnderTest.Result again = build(flags, ctx.toString());
    assertThat(again.exitCode()).as(again.stderr()).isZero();
    assertThat(runWasCached(again.stderr())).isTrue();
    Path other = dir.resolve("other");
    FarmUnderTest.Result changed = build(List.of("--add-host", "db.internal:10.9.9.9", "--shm-size", "96m", "--ulimit",
        "nofile=1024:2048", "--ulimit", "core=0"), "-o", "type=local,dest=" + other, ctx.toString());
    assertThat(changed.exitCode()).as(changed.stderr()).isZero();
    assertThat(runWasCached(changed.stderr())).isFalse();
    assertThat(Files.readString(other.resolve("hosts.txt"))).contains("10.9.9.9\tdb.internal").doesNotContain("10.1.2.3");

    // without the flags: the worker's defaults (64 MiB /dev/shm, no extra hosts)
    Path plain = dir.resolve("plain");
    FarmUnderTest.Result defaults = build(List.of(), "-o", "type=local,dest=" + plain, ctx.toString());
    assertThat(defaults.exitCode()).as(defaults.stderr()).isZero();
    assertThat(Files.readString(plain.resolve("shm.txt")).split("\\s+")[1]).isEqualTo(Long.toString(64 * 1024));
    assertThat(Files.readString(plain.resolve("hosts.txt"))).doesNotContain("db.internal");
  }

  @Test
  void badValuesAndSshAreRefusedBeforeTheBuildWithExitTwo(@TempDir Path dir) throws Exception {
    Path ctx = probeContext(dir);
    for (List<String> bad : List.of(List.of("--add-host", "db:10.0.0.1\n6.6.6.6 evil"), List.of("--add-host", "db:name"),
        List.of("--ulimit", "nofiles=10"), List.of("--ulimit", "nofile=20:10"), List.of("--shm-size", "2t"),
        List.of("--ssh", "default"))) {
      FarmUnderTest.Result result = build(bad, ctx.toString());
      assertThat(result.exitCode()).as(bad + ": " + result.stderr()).isEqualTo(ExitCodes.USAGE);
      assertThat(result.stderr()).doesNotContain("Exception").doesNotContain("#1 ");
    }
    assertThat(build(List.of("--ssh", "default"), ctx.toString()).stderr())
        .contains("--ssh is not supported: a RUN runs on a farm worker");
  }

  @Test
  void noCacheFilterRerunsTheNamedStageOnlyAndStoresItsResult(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    String id = UUID.randomUUID().toString();
    // $((1+1)) shows in the instruction as written and as 2 in its output: only output has "ran-2-"
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM %1$s AS deps
        RUN echo ran-$((1+1))-deps-%2$s > /deps.txt
        FROM deps AS app
        RUN echo ran-$((1+1))-app-%2$s > /app.txt && cat /app.txt
        FROM %1$s AS tests
        RUN echo ran-$((1+1))-tests-%2$s
        FROM app
        COPY --from=tests /bin/busybox /tested
        """.formatted(FarmUnderTest.busybox(), id));
    FarmUnderTest.Result first = FarmUnderTest.build(ctx.toString());
    assertThat(first.exitCode()).as(first.stderr()).isZero();
    assertThat(first.stderr()).contains("ran-2-app-" + id, "ran-2-tests-" + id);

    FarmUnderTest.Result filtered = FarmUnderTest.build("--no-cache-filter", "tests,DEPS", ctx.toString());

    assertThat(filtered.exitCode()).as(filtered.stderr()).isZero();
    assertThat(filtered.stderr()).contains("ran-2-tests-" + id); // ran again
    assertThat(filtered.stderr()).doesNotContain("ran-2-app-" + id); // taken from the cache
    assertThat(cachedSteps(filtered.stderr(), "tests")).isZero();
    assertThat(cachedSteps(filtered.stderr(), "deps")).isZero();
    assertThat(cachedSteps(filtered.stderr(), "app")).isPositive();
    // what the filtered stages produced was still recorded: the next plain build takes all from the cache
    FarmUnderTest.Result after = FarmUnderTest.build(ctx.toString());
    assertThat(after.exitCode()).as(after.stderr()).isZero();
    assertThat(after.stderr()).doesNotContain("ran-2-tests-" + id);
  }

  @Test
  void aTarballContextBuildsFromStandardInputAndFromAFile(@TempDir Path dir) throws Exception {
    String data = "from the tarball " + UUID.randomUUID();
    byte[] archive = TarContextTest.tar("Dockerfile=FROM " + FarmUnderTest.busybox() + "\nCOPY data.txt /data.txt\n"
        + "RUN cat /data.txt\n", "sub/", "data.txt=" + data, "Other.Dockerfile=FROM " + FarmUnderTest.busybox()
        + "\nCOPY data.txt /other.txt\n");
    Path out = dir.resolve("out");

    FarmUnderTest.RawResult stdin = FarmUnderTest.buildWithInput(archive, "--progress", "plain",
        "-o", "type=local,dest=" + out, "-");

    assertThat(stdin.exitCode()).as(stdin.stderr()).isZero();
    assertThat(out.resolve("data.txt")).hasContent(data);
    assertThat(stdin.stderr()).contains(data); // the RUN's output

    // a .tar path, -f naming a Dockerfile inside the archive
    Path tar = Files.write(dir.resolve("ctx.tar"), archive);
    Path other = dir.resolve("other");
    FarmUnderTest.Result file = FarmUnderTest.build("-f", "Other.Dockerfile", "-o", "type=local,dest=" + other,
        tar.toString());
    assertThat(file.exitCode()).as(file.stderr()).isZero();
    assertThat(other.resolve("other.txt")).hasContent(data);
  }

  @Test
  void aHostileTarballIsRefusedAndLeavesNothingOutside(@TempDir Path dir) throws Exception {
    Path secret = Files.writeString(dir.resolve("id_rsa"), "client's private key");
    Path outside = Files.createDirectories(dir.resolve("outside"));
    byte[] escape = TarContextTest.tar("Dockerfile=FROM scratch\n", "evil -> " + outside, "evil/planted=x");
    FarmUnderTest.RawResult planted = FarmUnderTest.buildWithInput(escape, "--progress", "plain", "-");
    assertThat(planted.exitCode()).isEqualTo(ExitCodes.BUILD_FAILED);
    assertThat(planted.stderr()).contains("is below the symlink evil");
    assertThat(outside.resolve("planted")).doesNotExist();

    // a Dockerfile that is a symlink to a file of the client's machine is not read
    byte[] steal = TarContextTest.tar("Dockerfile -> " + secret);
    FarmUnderTest.RawResult stolen = FarmUnderTest.buildWithInput(steal, "--progress", "plain", "-");
    assertThat(stolen.exitCode()).isNotZero();
    assertThat(stolen.stderr()).contains("it is a symlink").doesNotContain("private key");
  }

  @Test
  void bakeTargetsTakeTheSameAttributes(@TempDir Path dir) throws Exception {
    Path ctx = probeContext(dir);
    Path out = dir.resolve("out");
    Path bakeFile = Files.writeString(dir.resolve("docker-bake.hcl"), """
        target "probe" {
          context = "%s"
          extra-hosts = { "db.internal" = "10.4.5.6" }
          shm-size = "80m"
          ulimits = ["nofile=512:1024"]
          no-cache-filter = ["probe-stage-that-does-not-exist"]
          output = ["type=local,dest=%s"]
        }
        target "ssh" {
          context = "%1$s"
          ssh = ["default"]
        }
        """.formatted(ctx, out));

    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "-f", bakeFile.toString(), "--coordinator",
        FarmUnderTest.farm().endpoint(), "--progress", "plain", "probe");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(Files.readString(out.resolve("hosts.txt"))).contains("10.4.5.6\tdb.internal\n");
    assertThat(Files.readString(out.resolve("shm.txt")).split("\\s+")[1]).isEqualTo(Long.toString(80 * 1024));
    assertThat(Files.readAllLines(out.resolve("nofile.txt"))).containsExactly("512", "1024");

    FarmUnderTest.Result ssh = FarmUnderTest.stagefarm("bake", "-f", bakeFile.toString(), "--coordinator",
        FarmUnderTest.farm().endpoint(), "--progress", "plain", "ssh");
    assertThat(ssh.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(ssh.stderr()).contains("target \"ssh\": attribute ssh: is not supported");
  }

  private static FarmUnderTest.Result build(List<String> flags, String... args) throws Exception {
    List<String> all = new java.util.ArrayList<>(flags);
    all.addAll(List.of(args));
    return FarmUnderTest.build(all.toArray(String[]::new));
  }

  /** Whether the probe's RUN step was marked CACHED. */
  private static boolean runWasCached(String stderr) {
    List<String> lines = stderr.lines().toList();
    String step = lines.stream().filter(l -> l.matches("#\\d+ \\[0 \\d+/\\d+\\] RUN .*")).findFirst().orElseThrow();
    return lines.contains(step.substring(0, step.indexOf(' ')) + " CACHED");
  }

  /** How many steps of stage {@code stage} were marked CACHED. */
  private static long cachedSteps(String stderr, String stage) {
    List<String> lines = stderr.lines().toList();
    return lines.stream().filter(l -> l.matches("#\\d+ \\[" + stage + " \\d+/\\d+\\] .*"))
        .map(l -> l.substring(0, l.indexOf(' ')) + " CACHED").filter(lines::contains).count();
  }

  @Test
  void namedContextsReplaceFromAndCopyFromByImageOrDirectoryContent(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Path assets = Files.createDirectories(dir.resolve("assets"));
    Files.writeString(assets.resolve("logo.txt"), "logo " + UUID.randomUUID());
    Files.createSymbolicLink(assets.resolve("escape"), Path.of("/etc/hostname")); // recorded, never followed
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM base
        COPY --from=assets logo.txt /logo.txt
        COPY --from=tools /bin/busybox /tools-busybox
        RUN cat /logo.txt
        """);
    Path out = dir.resolve("out");

    FarmUnderTest.Result result = FarmUnderTest.build("--build-context", "base=docker-image://" + FarmUnderTest.busybox(),
        "--build-context", "tools=docker-image://" + FarmUnderTest.busybox(), "--build-context", "assets=" + assets,
        "-o", "type=local,dest=" + out, ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(out.resolve("logo.txt")).hasSameTextualContentAs(assets.resolve("logo.txt"));
    assertThat(out.resolve("tools-busybox")).isRegularFile();
    assertThat(out.resolve("bin/busybox")).isRegularFile(); // FROM base is the image

    // the directory's content is in the key: the same content hits, a changed file runs again
    FarmUnderTest.Result same = FarmUnderTest.build("--build-context", "base=docker-image://" + FarmUnderTest.busybox(),
        "--build-context", "tools=docker-image://" + FarmUnderTest.busybox(), "--build-context", "assets=" + assets,
        ctx.toString());
    assertThat(same.exitCode()).as(same.stderr()).isZero();
    assertThat(runWasCached(same.stderr())).isTrue();
    Files.writeString(assets.resolve("logo.txt"), "changed " + UUID.randomUUID());
    FarmUnderTest.Result changed = FarmUnderTest.build("--build-context", "base=docker-image://" + FarmUnderTest.busybox(),
        "--build-context", "tools=docker-image://" + FarmUnderTest.busybox(), "--build-context", "assets=" + assets,
        ctx.toString());
    assertThat(changed.exitCode()).as(changed.stderr()).isZero();
    assertThat(runWasCached(changed.stderr())).isFalse();
    assertThat(changed.stderr()).contains(Files.readString(assets.resolve("logo.txt")));

    // a symlink out of the named directory is not followed: the client's /etc/hostname is not sent
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + FarmUnderTest.busybox() + "\nCOPY --from=assets escape /e\n");
    FarmUnderTest.Result escape = FarmUnderTest.build("--build-context", "assets=" + assets, ctx.toString());
    assertThat(escape.exitCode()).isEqualTo(ExitCodes.BUILD_FAILED);
    assertThat(escape.stderr()).contains("COPY --from=assets failed: \"escape\" not found");

    // a directory cannot be a FROM; a name that is a stage is refused rather than half-replaced
    Files.writeString(ctx.resolve("Dockerfile"), "FROM assets\nRUN true\n");
    FarmUnderTest.Result fromDir = FarmUnderTest.build("--build-context", "assets=" + assets, ctx.toString());
    assertThat(fromDir.exitCode()).isEqualTo(ExitCodes.BUILD_FAILED);
    assertThat(fromDir.stderr()).contains("--build-context assets is a local directory");
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + FarmUnderTest.busybox() + " AS assets\nRUN true\n");
    FarmUnderTest.Result stage = FarmUnderTest.build("--build-context", "assets=" + assets, ctx.toString());
    assertThat(stage.exitCode()).isEqualTo(ExitCodes.BUILD_FAILED);
    assertThat(stage.stderr()).contains("the Dockerfile has a stage of that name");
  }
}
