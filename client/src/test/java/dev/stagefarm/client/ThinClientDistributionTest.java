package dev.stagefarm.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.oci.registry.RegistrySettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged thin client distribution ({@code target/stagefarm-client.jar} and {@code target/lib})
 * run as a user runs it, {@code java -jar stagefarm-client.jar}, in its own JVM with exactly that
 * class path: it builds and bakes on a real farm (started in this test JVM, which has the embedded
 * farm), and says in one line that {@code up}, {@code --one-shot}, the local farm and the farm's
 * server-side commands ({@code coordinator}, {@code worker}, {@code admin}) need the full distribution.
 */
class ThinClientDistributionTest {
  private static final Path DIST = Path.of(System.getProperty("stagefarm.client.dist", "target"));
  private static final Path JAR = DIST.resolve("stagefarm-client.jar");

  private static EmbeddedFarm farm;
  private static Path home;

  @BeforeAll
  static void startFarm() throws Exception {
    home = Files.createTempDirectory("stagefarm-thin-farm-");
    farm = EmbeddedFarm.start(new EmbeddedFarm.Options(home, null, 1, RegistrySettings.defaults(),
        EmbeddedKafka.Settings.forTests(), BuildCoordinator.Settings.DEFAULT, 0, InProcessWorkers.launcher()));
  }

  @AfterAll
  static void stopFarm() throws IOException {
    if (farm != null) {
      farm.close();
    }
    try (Stream<Path> paths = Files.walk(home)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void libHoldsNeitherTheFarmNorItsHeavyDependencies() throws IOException {
    List<String> jars = libJars();
    assertThat(jars).anyMatch(j -> j.startsWith("stagefarm-cli-"))
        .anyMatch(j -> j.startsWith("grpc-netty-shaded-")).anyMatch(j -> j.startsWith("protobuf-java-"))
        .anyMatch(j -> j.startsWith("stagefarm-picocli-")).anyMatch(j -> j.startsWith("stagefarm-dockerfile-"))
        // the embedded farm: broker, S3 server and their stores
        .noneMatch(j -> j.startsWith("stagefarm-embedded-"))
        .noneMatch(j -> j.startsWith("kafka"))
        .noneMatch(j -> j.startsWith("s3proxy-"))
        .noneMatch(j -> j.startsWith("jclouds"))
        .noneMatch(j -> j.startsWith("jetty-"))
        // the farm's server side: the worker (runc, layers, its share consumer), the Kafka client, S3, meters
        .noneMatch(j -> j.startsWith("stagefarm-worker-"))
        .noneMatch(j -> j.startsWith("minio-"))
        .noneMatch(j -> j.startsWith("okhttp"))
        .noneMatch(j -> j.startsWith("kotlin"))
        .noneMatch(j -> j.startsWith("bcprov"))
        .noneMatch(j -> j.startsWith("micrometer"))
        .noneMatch(j -> j.startsWith("prometheus"))
        .noneMatch(j -> j.startsWith("opentelemetry"));
    long bytes = 0;
    for (String jar : jars) {
      bytes += Files.size(DIST.resolve("lib").resolve(jar));
    }
    // session 7: 74 jars, 67.5 MB; a new dependency that makes it grow much is a choice to make on purpose
    assertThat(bytes).as("lib/ in bytes (%d jars)", jars.size()).isLessThan(40L << 20);
    try (JarFile jar = new JarFile(JAR.toFile())) {
      String classPath = jar.getManifest().getMainAttributes().getValue("Class-Path");
      // the launcher's class path is lib/, jar for jar
      assertThat(List.of(classPath.trim().split(" +")))
          .containsExactlyInAnyOrderElementsOf(jars.stream().map(j -> "lib/" + j).toList());
    }
  }

  /**
   * Every class of the CLI finds the classes it names in lib/, except those only the full
   * distribution runs (the embedded farm, the local farm's daemon, the server-side commands, which
   * the thin client replaces by a one-line refusal): what a build, bake or ls may load is all there.
   */
  @Test
  void onlyTheFullDistributionsClassesNameMissingClasses() throws IOException {
    Path lib = DIST.resolve("lib");
    String classPath = String.join(java.io.File.pathSeparator, libJars().stream().map(j -> lib.resolve(j).toString())
        .toList());
    String cliJar = libJars().stream().filter(j -> j.startsWith("stagefarm-cli-")).findFirst().orElseThrow();
    java.io.StringWriter out = new java.io.StringWriter();
    int exit = java.util.spi.ToolProvider.findFirst("jdeps").orElseThrow().run(new java.io.PrintWriter(out),
        new java.io.PrintWriter(out), "--missing-deps", "-q", "--multi-release", "base", "-cp", classPath,
        lib.resolve(cliJar).toString());
    assertThat(exit).as(out.toString()).isZero();
    List<String> missing = out.toString().lines().map(String::strip)
        .filter(l -> l.startsWith("dev.stagefarm.")).map(l -> l.split("\\s+")[0]).distinct().sorted().toList();

    assertThat(missing).as(out.toString()).isNotEmpty().allMatch(c -> c.startsWith("dev.stagefarm.cli.embedded.")
        || c.startsWith("dev.stagefarm.cli.ops.")
        || c.matches("dev\\.stagefarm\\.cli\\.farm\\.(EmbeddedFarm|InProcessWorkers|WorkerLauncher|LocalFarmDaemon|FarmTracing"
            + "|FarmWorkersDir|InProcessFarm)"
            + "(\\$.*)?")
        || c.matches("dev\\.stagefarm\\.cli\\.(CoordinatorCommand|WorkerCommand|UpCommand|AdminCommand|KafkaAclsCommand"
            + "|TopicsCommand|FarmKeysCommand|Observability)(\\$.*)?"));
  }

  @Test
  void theFarmsServerSideCommandsSayInOneLineThatTheyNeedTheFullDistribution(@TempDir Path dir) throws Exception {
    for (List<String> command : List.of(List.of("coordinator", "--kafka", "127.0.0.1:9092"), List.of("worker"),
        List.of("admin", "farm-keys", "--out", "keys"))) {
      Run run = run(dir, command.toArray(String[]::new));

      assertThat(run.exit()).as(run.toString()).isEqualTo(3);
      assertThat(run.stderr().strip().lines().toList()).as(run.toString()).hasSize(1);
      assertThat(run.stderr()).contains("stagefarm " + command.getFirst() + " needs the farm's server side")
          .contains("full distribution")
          .doesNotContain("Exception").doesNotContain("NoClassDefFoundError").doesNotContain("\tat ");
    }
    Run help = run(dir, "--help");
    assertThat(help.exit()).as(help.toString()).isZero();
    assertThat(help.stdout() + help.stderr()).contains("coordinator").contains("build");
  }

  @Test
  void buildsOnAFarmThroughCoordinator(@TempDir Path dir) throws Exception {
    Path context = Files.createDirectories(dir.resolve("context"));
    Files.writeString(context.resolve("hello.txt"), "hello from the thin client\n");
    Files.writeString(context.resolve("Dockerfile"), "FROM scratch\nCOPY hello.txt /greeting/hello.txt\n");
    Path out = dir.resolve("out");

    Run build = run(dir, "build", "--coordinator", farm.endpoint(), "--progress", "plain",
        "-o", "type=local,dest=" + out, context.toString());

    assertThat(build.exit()).as(build.toString()).isZero();
    assertThat(out.resolve("greeting/hello.txt")).hasContent("hello from the thin client");

    Files.writeString(context.resolve("docker-bake.hcl"), "target \"default\" {\n  output = [\"type=local,dest="
        + dir.resolve("baked") + "\"]\n}\n");
    Run bake = run(context, "bake", "--coordinator", farm.endpoint(), "--progress", "plain");
    assertThat(bake.exit()).as(bake.toString()).isZero();
    assertThat(dir.resolve("baked/greeting/hello.txt")).hasContent("hello from the thin client");

    Run ls = run(dir, "ls", "--coordinator", farm.endpoint());
    assertThat(ls.exit()).as(ls.toString()).isZero();
    assertThat(ls.stdout()).contains("SUCCEEDED");
  }

  @Test
  void parsesAndGraphsWithoutAFarm(@TempDir Path dir) throws Exception {
    Path dockerfile = dir.resolve("Dockerfile");
    Files.writeString(dockerfile, "FROM scratch AS a\nCOPY x /x\nFROM a AS b\nCOPY --from=a /x /y\n");

    Run parse = run(dir, "parse", "-f", dockerfile.toString());
    Run graph = run(dir, "graph", "-f", dockerfile.toString());

    assertThat(parse.exit()).as(parse.toString()).isZero();
    assertThat(parse.stdout()).contains("(from \"scratch\" \"AS\" \"a\")");
    assertThat(graph.exit()).as(graph.toString()).isZero();
    assertThat(graph.stdout()).contains("a").contains("b");
  }

  @Test
  void upSaysInOneLineThatTheEmbeddedFarmIsMissing(@TempDir Path dir) throws Exception {
    Run up = run(dir, "up", "--data", dir.resolve("data").toString());

    assertMissingEmbeddedFarm(up, "stagefarm up");
  }

  @Test
  void oneShotAndTheLocalFarmSayInOneLineThatTheEmbeddedFarmIsMissing(@TempDir Path dir) throws Exception {
    Path context = Files.createDirectories(dir.resolve("context"));
    Files.writeString(context.resolve("Dockerfile"), "FROM scratch\n");

    Run oneShot = run(dir, "build", "--one-shot", context.toString());
    Run local = run(dir, "build", context.toString()); // no --coordinator: the local background farm

    assertMissingEmbeddedFarm(oneShot, "--one-shot");
    assertMissingEmbeddedFarm(local, "the local background farm (a build without --coordinator)");
    assertThat(dir.resolve("home/farm/daemon.log")).doesNotExist(); // no daemon was started
  }

  private static void assertMissingEmbeddedFarm(Run run, String what) {
    assertThat(run.exit()).as(run.toString()).isEqualTo(3);
    assertThat(run.stderr().strip().lines().toList()).as(run.toString()).hasSize(1);
    assertThat(run.stderr()).contains(what + " needs the embedded farm (Kafka broker and S3 server)")
        .contains("--coordinator")
        .doesNotContain("Exception").doesNotContain("NoClassDefFoundError").doesNotContain("\tat ");
  }

  private static List<String> libJars() throws IOException {
    try (Stream<Path> files = Files.list(DIST.resolve("lib"))) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  record Run(int exit, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
  }

  /** {@code java -jar stagefarm-client.jar ARGS}: the class path is the jar's manifest, nothing else. */
  private static Run run(Path dir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
        JAR.toAbsolutePath().toString()));
    command.addAll(List.of(args));
    Path stdout = Files.createTempFile(dir, "stdout", ".txt");
    Path stderr = Files.createTempFile(dir, "stderr", ".txt");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> env = builder.environment();
    env.remove("CLASSPATH");
    env.remove("JAVA_TOOL_OPTIONS");
    env.keySet().removeIf(k -> k.startsWith("STAGEFARM_"));
    env.put("STAGEFARM_HOME", dir.resolve("home").toString()); // the local farm's state, if it were started
    Process process = builder.start();
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("stagefarm-client " + String.join(" ", args) + " did not finish in 5 minutes");
    }
    return new Run(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
        Files.readString(stderr, StandardCharsets.UTF_8));
  }
}
