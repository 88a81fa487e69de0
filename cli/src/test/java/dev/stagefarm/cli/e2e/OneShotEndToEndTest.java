package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm build --one-shot} as a user runs it: its own JVM with a coordinator and a worker
 * that runs a container, on an in-process bus instead of a Kafka broker and a directory instead of an
 * S3 server, all gone when the command returns; the worker started by the build's first task, none by
 * a build whose stages are all cached.
 */
class OneShotEndToEndTest {
  @TempDir Path dir;

  @Test
  void aOneShotBuildThatRunsAContainerLeavesNoProcessMountOrTempDirBehind() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    String busybox = BusyboxImage.pushTo(registry).toString();
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    // a RUN: a runc container, its network helper, overlay mounts and a snapshot
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + busybox + "\nRUN echo one-shot > /made\n");
    Path home = dir.resolve("home");
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path classes = dir.resolve("classes.log");

    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + tmp, "-Xlog:class+load=info:file=" + classes, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "build", "--one-shot", "--workers", "1", "--progress", "plain", "--insecure-registry",
        registry.host(), ctx.toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("STAGEFARM_HOME", home.toString());
    builder.environment().put("STAGEFARM_LOG_LEVEL", "INFO");
    Process process = builder.start();
    byte[] output = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(10, TimeUnit.MINUTES)).isTrue(); // bounds a hang only
    String log = new String(output, StandardCharsets.UTF_8);

    assertThat(process.exitValue()).as(log).isZero();
    assertThat(log).contains("RUN echo one-shot").contains("embedded farm (no broker) started in")
        .contains("embedded farm stopped in")
        .contains("active coordinator on the in-process bus")
        .doesNotContain("embedded Kafka listening")
        // leaving the leader election on close is expected: no warning at the user
        .doesNotContain("WARN  d.s.c.CoordinatorNode");
    // no S3 server and no S3 client in the JVM: the store is a directory under the home
    assertThat(Files.readString(classes)).contains(FileBlobStore.class.getName() + " ")
        .doesNotContain("org.gaul.s3proxy").doesNotContain("org.eclipse.jetty.server.Server ")
        .doesNotContain("io.minio.MinioAsyncClient ").doesNotContain("okhttp3.OkHttpClient ");
    assertThat(log).contains("file store ");
    assertThat(home.resolve("s3")).doesNotExist();
    try (Stream<Path> blobs = Files.list(home.resolve(EmbeddedFarm.FILE_STORE_DIR).resolve("blobs/sha256"))) {
      assertThat(blobs.count()).as("blobs in the file store").isPositive();
    }
    assertThat(processesUsing(home)).as("processes still using the farm home").isEmpty();
    assertThat(mountsUnder(home)).as("mounts left under the farm home").isEmpty();
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left.toList()).as("temp dirs are deleted").isEmpty();
    }
    // the worker started for the RUN's task, on demand
    assertThat(log).contains("worker worker-1 started");
    // in the one-shot farm's own directory: never a running local farm's (<home>/workers)
    assertThat(home.resolve("oneshot").resolve("1").resolve("worker-1")).isDirectory();
    assertThat(home.resolve("workers")).doesNotExist();

    // the same build again: every stage cached, no task published, so no worker started at all; its image
    // exported into a file by the farm in this process (the layers copied from the store by the kernel)
    Path archive = dir.resolve("image.tar");
    Run again = oneShot(home, ctx, registry, Map.of(), "-o", "type=oci,dest=" + archive);
    assertThat(again.exit()).as(again.log()).isZero();
    assertThat(again.log()).contains("CACHED").contains("workers, one per task")
        .doesNotContain("worker worker-1 started").contains("written to " + archive + " (oci)");
    assertEveryBlobIsItsDigestsAndTheStoresBytes(archive, home.resolve(EmbeddedFarm.FILE_STORE_DIR));
  }

  /** An OCI archive whose every blob hashes to its name, holds the store's bytes, and the index's manifest. */
  private static void assertEveryBlobIsItsDigestsAndTheStoresBytes(Path archive, Path store) throws IOException {
    Map<String, byte[]> entries = new java.util.HashMap<>();
    try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(Files.newInputStream(archive))) {
      for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        entries.put(e.getName(), in.readAllBytes());
      }
    }
    assertThat(entries).containsKeys("oci-layout", "index.json");
    List<String> blobs = entries.keySet().stream().filter(n -> n.startsWith("blobs/sha256/") && !n.endsWith("/"))
        .toList();
    assertThat(blobs).hasSizeGreaterThanOrEqualTo(4); // manifest, config, the base's layer and the RUN's
    for (String name : blobs) {
      String hex = name.substring("blobs/sha256/".length());
      assertThat(dev.stagefarm.oci.Digest.of(entries.get(name)).hex()).as(name).isEqualTo(hex);
      assertThat(entries.get(name)).as(name + " as stored")
          .isEqualTo(Files.readAllBytes(store.resolve("blobs/sha256").resolve(hex)));
    }
    assertThat(new String(entries.get("index.json"), StandardCharsets.UTF_8)).contains("sha256:");
  }

  @Test
  void aOneShotWhoseWorkersCannotStartFailsItsBuildWithTheReason() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    String busybox = BusyboxImage.pushTo(registry).toString();
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + busybox + "\nRUN echo never\n");
    // no slirp4netns on PATH: a worker refuses to start (its RUNs would have no network); the coordinator and
    // the planning need no program, so the farm starts and the build's first task starts the workers
    Path emptyBin = Files.createDirectories(dir.resolve("empty-bin"));

    long started = System.nanoTime();
    Run run = oneShot(dir.resolve("home"), ctx, registry, Map.of("PATH", emptyBin.toString()));

    assertThat(run.exit()).as(run.log()).isNotZero();
    assertThat(run.log()).contains("starting the embedded farm's workers failed").contains("slirp4netns");
    // failed at once, not after a queue lease or the presence window (15 s)
    assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration.ofMinutes(2));
  }

  @Test
  void aOneShotStoppedBySigtermWhileItsContainerRunsLeavesNoProcessOrMountBehind() throws Exception {
    // what the launcher forwards for Ctrl-C; the farm's stop runs in the shutdown hook, with a RUN in flight
    RegistryFixture registry = RegistryFixture.shared();
    String busybox = BusyboxImage.pushTo(registry).toString();
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + busybox + "\nRUN echo started && sleep 300\n");
    Path home = dir.resolve("home");
    Path log = dir.resolve("one-shot.log");
    ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString(), "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "build", "--one-shot", "--workers", "1", "--progress", "plain", "--insecure-registry",
        registry.host(), ctx.toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("STAGEFARM_HOME", home.toString());
    builder.environment().put("STAGEFARM_LOG_LEVEL", "INFO");
    Process process = builder.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (!Files.readString(log).contains("started\n") || processesUsing(home).isEmpty()) {
        assertThat(process.isAlive()).as(Files.readString(log)).isTrue();
        assertThat(System.nanoTime()).as("the RUN did not start: " + Files.readString(log)).isLessThan(deadline);
        Thread.sleep(100);
      }

      process.destroy(); // SIGTERM
      assertThat(process.waitFor(2, TimeUnit.MINUTES)).as("stopped, not hung").isTrue();
    } finally {
      process.destroyForcibly();
    }

    String output = Files.readString(log);
    assertThat(process.exitValue()).as(output).isNotZero();
    assertThat(output).contains("embedded farm stopped in");
    assertThat(processesUsing(home)).as("processes still using the farm home").isEmpty();
    assertThat(mountsUnder(home)).as("mounts left under the farm home").isEmpty();
  }

  private record Run(int exit, String log) {}

  /**
   * {@code stagefarm build --one-shot --workers 1} of {@code ctx} in a JVM of its own, with {@code env} added and
   * {@code options} before the context.
   */
  private Run oneShot(Path home, Path ctx, RegistryFixture registry, Map<String, String> env, String... options)
      throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "build", "--one-shot", "--workers", "1", "--progress", "plain", "--insecure-registry", registry.host()));
    command.addAll(List.of(options));
    command.add(ctx.toString());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("STAGEFARM_HOME", home.toString());
    builder.environment().put("STAGEFARM_LOG_LEVEL", "INFO");
    builder.environment().putAll(env);
    Process process = builder.start();
    byte[] output = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(10, TimeUnit.MINUTES)).isTrue(); // bounds a hang only
    return new Run(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }

  /** Live processes whose command line or working directory names {@code dir} (runc, slirp4netns, a shim). */
  private static List<String> processesUsing(Path dir) {
    String path = dir.toString();
    List<String> found = new ArrayList<>();
    ProcessHandle.allProcesses().forEach(p -> {
      Path proc = Path.of("/proc", Long.toString(p.pid()));
      try {
        String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
            .replace('\0', ' ');
        String cwd = "";
        try {
          cwd = Files.readSymbolicLink(proc.resolve("cwd")).toString();
        } catch (IOException | UnsupportedOperationException e) {
          // a process that just ended
        }
        if (cmdline.contains(path) || cwd.startsWith(path)) {
          found.add(p.pid() + ": " + cmdline);
        }
      } catch (IOException e) {
        // gone meanwhile
      }
    });
    return found;
  }

  private static List<String> mountsUnder(Path dir) throws IOException {
    String path = dir.toString();
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(line -> line.contains(path)).toList();
  }
}
