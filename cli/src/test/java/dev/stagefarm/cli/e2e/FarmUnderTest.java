package dev.stagefarm.cli.e2e;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.TempDirectories;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * One embedded farm per test JVM (real Kafka broker, real S3 server, coordinator on a TCP port,
 * two workers running runc) with a local registry holding the busybox base image. Builds go
 * through the CLI ({@code Main.execute("build", "--coordinator", …)}).
 */
final class FarmUnderTest {
  private static EmbeddedFarm farm;
  private static String busybox;
  private static Path home;

  private FarmUnderTest() {}

  static synchronized EmbeddedFarm farm() throws Exception {
    if (farm == null) {
      RegistryFixture registry = RegistryFixture.shared();
      BusyboxImage.pushTo(registry);
      busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
      home = TempDirectories.createDeletedAtExit("stagefarm-e2e-");
      farm = PrivateFarm.start(home, 2, 0, InProcessWorkers.launcher());
      EmbeddedFarm started = farm;
      Runtime.getRuntime().addShutdownHook(new Thread(started::close, "stagefarm-e2e-farm-stop"));
    }
    return farm;
  }

  /** The farm key file the farm's parts share (for coordinators a test starts as child processes). */
  static Path farmKeyFile() throws Exception {
    farm();
    return home.resolve(EmbeddedFarm.FARM_KEY_FILE);
  }

  /** The busybox base image in the local registry, e.g. {@code 127.0.0.1:5000/library/busybox:latest}. */
  static String busybox() throws Exception {
    farm();
    return busybox;
  }

  record Result(int exitCode, String stdout, String stderr) {}

  /** Runs {@code stagefarm build --coordinator <farm> --progress plain ARGS…} and captures its output. */
  static Result build(String... args) throws Exception {
    return buildOn(farm().endpoint(), args);
  }

  /** Runs {@code stagefarm build --coordinator ENDPOINT --progress plain ARGS…}: a build on another farm. */
  static Result buildOn(String endpoint, String... args) {
    String[] full = new String[args.length + 5];
    full[0] = "build";
    full[1] = "--coordinator";
    full[2] = endpoint;
    full[3] = "--progress";
    full[4] = "plain";
    System.arraycopy(args, 0, full, 5, args.length);
    return stagefarm(full);
  }

  /** Runs {@code stagefarm ARGS…} in this JVM and captures its output (echoed to stderr for the test log). */
  static Result stagefarm(String... args) {
    RawResult raw = stagefarmWithInput(new byte[0], args);
    return new Result(raw.exitCode(), new String(raw.stdout(), StandardCharsets.UTF_8), raw.stderr());
  }

  /** What a run printed, standard output as bytes (an image or tar written to {@code dest=-}). */
  record RawResult(int exitCode, byte[] stdout, String stderr) {}

  /**
   * Runs {@code stagefarm ARGS…} with {@code stdin} as standard input; standard output as bytes.
   * Synchronized on the class, not per farm: what it swaps (System.out, err, in) is the JVM's.
   */
  static synchronized RawResult stagefarmWithInput(byte[] stdin, String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    java.io.InputStream in = System.in;
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
      System.setIn(new java.io.ByteArrayInputStream(stdin));
      code = Main.execute(args);
    } finally {
      System.setOut(out);
      System.setErr(err);
      System.setIn(in);
    }
    RawResult result = new RawResult(code, stdout.toByteArray(), stderr.toString(StandardCharsets.UTF_8));
    err.println("--- stagefarm " + String.join(" ", args) + " → " + code + "\n" + result.stderr()
        + (result.stdout().length > 4096 ? "(" + result.stdout().length + " bytes on stdout)"
            : new String(result.stdout(), StandardCharsets.UTF_8)));
    return result;
  }

  /** {@code stagefarm build --coordinator <farm> ARGS…} with standard input and raw standard output. */
  static RawResult buildWithInput(byte[] stdin, String... args) throws Exception {
    String[] full = new String[args.length + 3];
    full[0] = "build";
    full[1] = "--coordinator";
    full[2] = farm().endpoint();
    System.arraycopy(args, 0, full, 3, args.length);
    return stagefarmWithInput(stdin, full);
  }

  /** The status of the most recently created build. */
  static BuildStatus lastBuild() throws Exception {
    List<BuildStatus> builds =
        BuildServiceGrpc.newBlockingStub(farm().channel()).listBuilds(ListBuildsRequest.getDefaultInstance()).getBuildsList();
    return builds.stream().max(Comparator.comparingLong(BuildStatus::getCreatedMs)).orElseThrow();
  }

  static BuildClient client() throws Exception {
    return new BuildClient(farm().channel(), farm().endpoint());
  }
}
