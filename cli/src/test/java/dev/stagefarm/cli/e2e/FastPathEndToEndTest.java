package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stagefarm.cli.e2e.LocalFarmClients.Run;
import dev.stagefarm.cli.farm.ApiClientFlags;
import dev.stagefarm.cli.farm.LocalFarmState;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.farmrun.FarmRunClient;
import dev.stagefarm.farmrun.FarmRunProtocol;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast path (issue 12): a build handed by the thin client ({@code FarmRunClient}, module
 * farmrun: a JVM that loads only the JDK and two classes) to a running local farm over its Unix
 * socket, through real processes: the same image as the JVM client, the build's exit code and
 * errors, runs that do not see each other, hostile connections refused, a killed client's build
 * cancelled, and the fallback when no farm (or one with other settings) is there.
 */
class FastPathEndToEndTest {
  @TempDir Path dir;

  private final LocalFarmClients clients = new LocalFarmClients(() -> dir);

  @AfterEach
  void stopTheFarm() throws Exception {
    clients.stop();
  }

  /** The thin client as the launcher starts it: its class path holds module farmrun only, no CLI. */
  private Process thinClient(Path cwd, Map<String, String> env, String... args) throws Exception {
    Path farmrun = Path.of(FarmRunClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(LocalFarmClients.java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
        farmrun.toString(), FarmRunClient.class.getName(), clients.state().dir().toString(), "0"));
    command.addAll(List.of(args));
    return clients.start(command, cwd, env);
  }

  private Run thin(Path cwd, String... args) throws Exception {
    return clients.finish(thinClient(cwd, Map.of(), args));
  }

  private static final String SCRATCH = "FROM scratch\nARG FOO\nLABEL foo=$FOO\nCOPY a.txt /a.txt\n";

  @Test
  void aWarmBuildThroughTheThinClientWritesTheSameImageAsTheJvmClient() throws Exception {
    Path ctx = clients.context("ctx", SCRATCH);
    Run first = clients.jvmClient(dir, "build", "--progress", "plain", "-t", "img", "--build-arg", "FOO=x",
        "-o", "type=oci,dest=" + dir.resolve("jvm.tar"), ctx.toString());
    assertThat(first.exitCode()).as(first.stderr()).isZero();
    long farmPid = clients.state().read().orElseThrow().pid();
    assertThat(Files.getPosixFilePermissions(clients.state().dir().resolve(FarmRunProtocol.SOCKET)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));

    // relative paths are the thin client's: its working directory is ctx
    Run fast = thin(ctx, "build", "--progress", "plain", "-t", "img", "--build-arg", "FOO=x",
        "-o", "type=oci,dest=thin.tar", ".");
    assertThat(fast.exitCode()).as(fast.stderr()).isZero();
    assertThat(fast.stdout()).contains("image sha256:").contains("thin.tar");
    assertThat(Files.readAllBytes(ctx.resolve("thin.tar"))).isEqualTo(Files.readAllBytes(dir.resolve("jvm.tar")));
    assertThat(clients.state().read().orElseThrow().pid()).isEqualTo(farmPid);
    assertThat(Files.readString(clients.state().log())).doesNotContain("refused");
  }

  @Test
  void aFailingBuildsExitCodeAndErrorComeBackAsFromTheJvmClient() throws Exception {
    Path ok = clients.context("ok", SCRATCH);
    assertThat(clients.jvmClient(dir, "build", "--progress", "plain", ok.toString()).exitCode()).isZero(); // starts the farm
    Path bad = clients.context("bad", "FROM scratch\nFRM busybox\n");

    Run jvm = clients.jvmClient(bad, "build", "--progress", "plain", ".");
    Run fast = thin(bad, "build", "--progress", "plain", ".");

    assertThat(fast.exitCode()).isEqualTo(jvm.exitCode()).isNotZero();
    assertThat(fast.stderr()).contains("Dockerfile:2").isEqualTo(jvm.stderr());
    // and a usage error
    Run usage = thin(bad, "build", "--no-such-flag", ".");
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(usage.stderr()).contains("--no-such-flag");
  }

  @Test
  void twoRunsAtOnceSeeOnlyTheirOwnEnvironmentDirectoryAndBuildArgs() throws Exception {
    Path one = clients.context("one", SCRATCH);
    Path two = clients.context("two", SCRATCH);
    assertThat(clients.jvmClient(dir, "build", "--progress", "plain", one.toString()).exitCode()).isZero();

    // FOO from each client's environment (a bare --build-arg), the outputs relative to each one's directory
    Process a = thinClient(one, Map.of("FOO", "from-one"), "build", "--progress", "plain", "-t", "img:t",
        "--build-arg", "FOO", "--iidfile", "iid", "-o", "type=oci,dest=out.tar", ".");
    Process b = thinClient(two, Map.of("FOO", "from-two"), "build", "--progress", "plain", "-t", "img:t",
        "--build-arg", "FOO", "--iidfile", "iid", "-o", "type=oci,dest=out.tar", ".");
    Run ra = clients.finish(a);
    Run rb = clients.finish(b);
    assertThat(ra.exitCode()).as(ra.stderr()).isZero();
    assertThat(rb.exitCode()).as(rb.stderr()).isZero();

    assertThat(label(one)).isEqualTo("from-one");
    assertThat(label(two)).isEqualTo("from-two");
    assertThat(Files.readString(one.resolve("iid"))).isNotEqualTo(Files.readString(two.resolve("iid")));
    assertThat(ra.stdout()).doesNotContain(two.toString());
    assertThat(rb.stdout()).doesNotContain(one.toString());
  }

  private String label(Path ctx) throws Exception {
    Path layout = Files.createDirectories(ctx.resolve("layout"));
    assertThat(ImageChecks.exec(List.of("tar", "-xf", ctx.resolve("out.tar").toString(), "-C", layout.toString()), ctx)
        .exitCode()).isZero();
    return ImageChecks.imageConfig(layout, "t").path("config").path("Labels").path("foo").asText();
  }

  @Test
  void aWrongTokenOrAHostileFrameIsRefusedAndTheFarmKeepsServing() throws Exception {
    Path ctx = clients.context("ctx", SCRATCH);
    assertThat(clients.jvmClient(dir, "build", "--progress", "plain", ctx.toString()).exitCode()).isZero();
    Path socket = clients.state().dir().resolve(FarmRunProtocol.SOCKET);

    byte[] wrongToken = new FarmRunProtocol.Hello(FarmRunProtocol.VERSION, "not-the-token", ctx.toString(), 0,
        List.of("build", "."), Map.of()).encode();
    assertThat(exchange(socket, frame(FarmRunProtocol.HELLO, wrongToken)))
        .contains("the local farm refused the run: wrong token");

    // a frame header claiming 1 GiB: refused before anything is read or allocated
    byte[] huge = {FarmRunProtocol.HELLO, 0x40, 0, 0, 0};
    assertThat(exchange(socket, huge)).contains("over the limit of " + FarmRunProtocol.MAX_HELLO + " bytes");
    // an unknown frame type, a truncated hello, an argument count over the limit
    assertThat(exchange(socket, new byte[] {99, 0, 0, 0, 0})).contains("unknown frame type 99");
    byte[] truncated = frame(FarmRunProtocol.HELLO, java.util.Arrays.copyOf(wrongToken, wrongToken.length - 3));
    assertThat(exchange(socket, truncated)).contains("truncated");
    byte[] manyArgs = frame(FarmRunProtocol.HELLO, tooManyArgs());
    assertThat(exchange(socket, manyArgs)).contains("over the limit of " + FarmRunProtocol.MAX_ARGS);
    // a client that sends half a header and goes away: nothing to answer, and nothing breaks
    try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      channel.write(java.nio.ByteBuffer.wrap(new byte[] {FarmRunProtocol.HELLO, 0}));
    }

    Run after = thin(ctx, "build", "--progress", "plain", ".");
    assertThat(after.exitCode()).as(after.stderr()).isZero();
    assertThat(Files.readString(clients.state().log())).contains("refused a run: wrong token");
  }

  private static byte[] tooManyArgs() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    var out = new java.io.DataOutputStream(bytes);
    out.writeInt(FarmRunProtocol.MAGIC);
    out.writeInt(FarmRunProtocol.VERSION);
    out.writeInt(0); // token
    out.writeInt(1);
    out.write('/');
    out.writeInt(0); // tty
    out.writeInt(FarmRunProtocol.MAX_ARGS + 1);
    return bytes.toByteArray();
  }

  private static byte[] frame(byte type, byte[] body) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    FarmRunProtocol.write(bytes, type, body);
    return bytes.toByteArray();
  }

  /** Sends {@code bytes}, returns what the farm wrote on standard error (and its exit code) before it closed. */
  private static String exchange(Path socket, byte[] bytes) throws Exception {
    try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      OutputStream out = Channels.newOutputStream(channel);
      out.write(bytes);
      out.flush();
      InputStream in = Channels.newInputStream(channel);
      StringBuilder said = new StringBuilder();
      for (FarmRunProtocol.Frame frame; (frame = FarmRunProtocol.read(in)) != null; ) {
        said.append(frame.type() == FarmRunProtocol.EXIT ? "exit " + frame.intBody() : frame.text()).append('\n');
      }
      return said.toString();
    }
  }

  @Test
  void killingTheThinClientCancelsItsBuildOnTheFarm() throws Exception {
    Process client = slowBuildStarted();
    client.destroyForcibly(); // SIGKILL: no cancel frame, only the connection's end
    client.waitFor();

    assertThat(slowBuildEnded().getState()).isEqualTo(BuildState.CANCELLED);
    assertThat(Files.readString(clients.state().log())).contains("the client's connection closed");
  }

  /**
   * SIGTERM (what the launcher forwards for Ctrl-C): the client's shutdown hook sends a cancel and waits for the
   * farm's end of the run; the JVM exits with the signal's status, 143, although the client ends every other run
   * with {@link Runtime#halt} (FarmRunClient#exit).
   */
  @Test
  void terminatingTheThinClientCancelsItsBuildAndExitsWithTheSignalsStatus() throws Exception {
    Process client = slowBuildStarted();
    client.destroy(); // SIGTERM
    assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(client.exitValue()).isEqualTo(128 + 15);
    assertThat(slowBuildEnded().getState()).isEqualTo(BuildState.CANCELLED);
    assertThat(Files.readString(clients.state().log())).contains("cancelled by the client");
  }

  /** A thin client whose build runs {@code sleep 600} on a warm farm, once its RUN has started. */
  private Process slowBuildStarted() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    String insecure = busybox.substring(0, busybox.indexOf('/'));
    Path quick = clients.context("quick", "FROM " + busybox + "\nRUN true\n");
    assertThat(clients.jvmClient(dir, "build", "--progress", "plain", "--insecure-registry", insecure, quick.toString())
        .exitCode()).isZero();
    Path slow = clients.context("slow", "FROM " + busybox + "\nRUN echo started; sleep 600\n");

    Process client = thinClient(slow, Map.of(), "build", "--progress", "plain", "--insecure-registry", insecure, ".");
    Path stderr = clients.stderrOf(client);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!Files.readString(stderr).contains("started") && System.nanoTime() < deadline && client.isAlive()) {
      Thread.sleep(200);
    }
    assertThat(Files.readString(stderr)).contains("started");
    return client;
  }

  /** The slow build once it has ended (or as it stands after two minutes). */
  private BuildStatus slowBuildEnded() throws Exception {
    LocalFarmState.Running running = clients.state().read().orElseThrow();
    BuildStatus build = null;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline) {
      build = slowBuild(running);
      if (build != null && build.getState() == BuildState.CANCELLED) {
        break;
      }
      Thread.sleep(500);
    }
    assertThat(build).isNotNull();
    return build;
  }

  /** The farm's build whose Dockerfile sleeps, as its API lists it. */
  private BuildStatus slowBuild(LocalFarmState.Running running) {
    try (RemoteFarm farm = RemoteFarm.connect("127.0.0.1:" + running.port(), ApiClientFlags.withTokenFile(clients.state().token()))) {
      for (BuildStatus build : BuildServiceGrpc.newBlockingStub(farm.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
          .listBuilds(ListBuildsRequest.newBuilder().setPageSize(1000).build()).getBuildsList()) {
        if (build.getState() != BuildState.SUCCEEDED) {
          return build;
        }
      }
      return null;
    }
  }

  /** The thin client's JVM flags as {@code ./stagefarm} starts it (interpreted; the launcher's {@code runflags}). */
  private static final List<String> LAUNCHER_FLAGS = List.of("-Xint", "-XX:+UseSerialGC", "-XX:-UsePerfData",
      "-Xss512k", "-Xmx64m");

  /** A JVM with the launcher's flags, {@code extra} and {@code jar} as its class path, then {@code args}. */
  private Run launcherJvm(Path cwd, Path jar, List<String> extra, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(LocalFarmClients.java()));
    command.addAll(LAUNCHER_FLAGS);
    command.addAll(extra);
    command.addAll(List.of("-cp", jar.toString()));
    command.addAll(List.of(args));
    return clients.finish(clients.start(command, cwd, Map.of()));
  }

  /**
   * The launcher's AOT cache for the thin client (JDK 25+, {@code run_aot_train} in {@code ./stagefarm}): recorded
   * from a run the farm declines at once (exit 121, nothing in the farm's log; the launcher discards the JVM's own
   * lines about the recording), written by a second JVM. The cache is one these flags can use ({@code AOTMode=on}
   * fails the JVM otherwise); a build with it writes the same image, and the same output, as one without.
   */
  @Test
  void anAotCacheRecordedFromADeclinedTrainingRunServesTheSameBuild() throws Exception {
    assumeTrue(Runtime.version().feature() >= 25, "the launcher makes AOT caches on JDK 25+ only");
    Path ctx = clients.context("ctx", SCRATCH);
    assertThat(clients.jvmClient(dir, "build", "--progress", "plain", ctx.toString()).exitCode()).isZero();
    String state = clients.state().dir().toString();
    Path jar = farmrunJar(); // as farmrun/target/stagefarm-run.jar: the JVM archives classes from jars only
    Path conf = dir.resolve("run.aotconf");
    Path cache = dir.resolve("run.aot");

    Run training = launcherJvm(ctx, jar, List.of("-XX:AOTMode=record", "-XX:AOTConfiguration=" + conf),
        FarmRunClient.class.getName(), state, "0", "aot-training");
    assertThat(training.exitCode()).isEqualTo(FarmRunProtocol.FALLBACK_EXIT);
    assertThat(conf).isNotEmptyFile();
    Run create = launcherJvm(ctx, jar, List.of("-XX:AOTMode=create", "-XX:AOTConfiguration=" + conf,
        "-XX:AOTCache=" + cache));
    assertThat(create.exitCode()).as(create.output()).isZero();
    assertThat(cache).isNotEmptyFile();

    Run without = launcherJvm(ctx, jar, List.of(), FarmRunClient.class.getName(), state, "0",
        "build", "--progress", "quiet", "-o", "type=oci,dest=plain.tar", ".");
    Run with = launcherJvm(ctx, jar, List.of("-XX:AOTMode=on", "-XX:AOTCache=" + cache, "-Xlog:aot=off", "-Xlog:cds=off"),
        FarmRunClient.class.getName(), state, "0", "build", "--progress", "quiet", "-o", "type=oci,dest=aot.tar", ".");
    assertThat(with.exitCode()).as(with.output()).isZero();
    assertThat(without.exitCode()).as(without.output()).isZero();
    assertThat(with.stderr()).isEqualTo(without.stderr()).isEmpty();
    assertThat(with.stdout().replace("aot.tar", "plain.tar").replaceAll(" in [0-9.]+s", ""))
        .isEqualTo(without.stdout().replaceAll(" in [0-9.]+s", "")).contains("image sha256:");
    assertThat(Files.readAllBytes(ctx.resolve("aot.tar"))).isEqualTo(Files.readAllBytes(ctx.resolve("plain.tar")));
    assertThat(Files.readString(clients.state().log())).doesNotContain("refused");
  }

  /** Module farmrun's classes in a jar of their own (the test's class path has its classes directory). */
  private Path farmrunJar() throws Exception {
    Path classes = Path.of(FarmRunClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path jar = dir.resolve("stagefarm-run.jar");
    if (Files.isRegularFile(classes)) {
      Files.copy(classes, jar);
      return jar;
    }
    try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
        var files = Files.walk(classes)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new java.util.jar.JarEntry(classes.relativize(file).toString().replace('\\', '/')));
        Files.copy(file, out);
        out.closeEntry();
      }
    }
    return jar;
  }

  @Test
  void withoutARunningFarmOrWithOtherSettingsTheThinClientFallsBackWithoutOutput() throws Exception {
    Path ctx = clients.context("ctx", SCRATCH);
    Run none = thin(ctx, "build", ".");
    assertThat(none.exitCode()).isEqualTo(FarmRunProtocol.FALLBACK_EXIT);
    assertThat(none.stdout() + none.stderr()).isEmpty();

    assertThat(clients.jvmClient(dir, "build", "--progress", "plain", ctx.toString()).exitCode()).isZero();
    for (List<String> args : List.of(List.of("build", "--workers", "3", "."), List.of("build", "--one-shot", "."),
        List.of("ls"), List.of("build", "--coordinator", "127.0.0.1:1", "."))) {
      Run declined = thin(ctx, args.toArray(String[]::new));
      assertThat(declined.exitCode()).as(args.toString()).isEqualTo(FarmRunProtocol.FALLBACK_EXIT);
      assertThat(declined.stdout() + declined.stderr()).isEmpty();
    }
    Run env = clients.finish(thinClient(ctx, Map.of("STAGEFARM_COORDINATOR", "127.0.0.1:1"), "build", "."));
    assertThat(env.exitCode()).isEqualTo(FarmRunProtocol.FALLBACK_EXIT);
  }
}
