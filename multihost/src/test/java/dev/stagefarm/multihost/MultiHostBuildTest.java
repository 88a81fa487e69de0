package dev.stagefarm.multihost;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds through a farm whose parts are containers on a private network (Kafka, S3, registry,
 * coordinator, workers), with the client on the host: what a farm spread over machines does when
 * work fans out, a worker dies or is cut off mid-stage, workers are added mid-build, the coordinator
 * restarts. The tests share one farm (Kafka, S3, registry, coordinator: starting them is most of a
 * test's time) and each starts workers of its own, stopped after it. No wall-clock assertions:
 * timeouts only bound a hang.
 */
@ExtendWith(DockerEngine.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiHostBuildTest {
  private static final Duration STAGE_START = Duration.ofMinutes(5);
  private static final Duration BUILD = Duration.ofMinutes(10);
  /** A worker's log line for a stage it takes after another attempt or delivery of it. */
  private static final Pattern RETAKEN = Pattern.compile("took build \\S+ stage \\S+ (attempt [2-9]|attempt \\d+ \\(delivery [2-9])");
  /** A worker's log line for a run of a stage that ended without its result counting (TaskSlot, TaskLoop). */
  /** What each run of the network-cut test's stage prints. */
  private static final Pattern TOKEN = Pattern.compile(" token ([0-9a-f]{16})$");
  private static final Pattern STALE_END = Pattern.compile(
      "cancelling, |stopped, |dropping .* unrun|not returned again|acknowledging .* failed|was not published");

  @TempDir static Path shared;
  @TempDir Path work;
  private static ContainerFarm farm;

  /** The farm without workers, and the locally made busybox image in its registry as docker.io's library/busybox. */
  @BeforeAll
  static void farmWithABaseImage() throws Exception {
    CliBuild.run("image", "busybox-rootfs", shared.resolve("busybox").toString());
    CliBuild.run("admin", "farm-keys", "--out", shared.resolve("keys").toString());
    farm = new ContainerFarm(0, shared.resolve("keys"));
    String registry = farm.registryFromHost();
    CliBuild.run("image", "import", shared.resolve("busybox").toString(), "--cmd", "sh",
        "--insecure-registry", registry, "-t", registry + "/library/busybox:latest");
  }

  @AfterEach
  void stopTheTestsWorkers() {
    farm.stopWorkers();
  }

  @AfterAll
  static void stopTheFarm() {
    if (farm != null) {
      farm.close();
    }
  }

  /**
   * {@code n} independent stages, each a RUN of {@code seconds}, and a last stage that copies from
   * all. The RUNs carry a nonce: the farm (shared by the tests) must not find them in its cache.
   */
  private Path fanOut(int n, int seconds) throws Exception {
    String nonce = java.util.UUID.randomUUID().toString();
    StringBuilder dockerfile = new StringBuilder();
    for (int i = 1; i <= n; i++) {
      dockerfile.append("FROM busybox AS s").append(i).append('\n').append("RUN sleep ").append(seconds)
          .append(" && echo stage ").append(i).append(' ').append(nonce).append(" > /s").append(i).append('\n');
    }
    dockerfile.append("FROM busybox\n");
    for (int i = 1; i <= n; i++) {
      dockerfile.append("COPY --from=s").append(i).append(" /s").append(i).append(" /out/s").append(i).append('\n');
    }
    dockerfile.append("RUN cat /out/* > /out/all\n");
    Path context = work.resolve("context");
    ContainerFarm.writeFile(context, "Dockerfile", dockerfile.toString());
    return context;
  }

  /** worker-1 … worker-n. */
  private static List<String> workers(int n) {
    return java.util.stream.IntStream.rangeClosed(1, n).mapToObj(i -> "worker-" + i).toList();
  }

  private CliBuild build(Path context, Path out) throws Exception {
    return CliBuild.start("build", "--coordinator", farm.coordinatorAddress(), "--progress", "plain",
        "-t", "multihost:test", "-o", "type=oci,dest=" + out, context.toString());
  }

  @Test
  void fanOutBuildSpreadsOverTheThreeWorkerContainers() throws Exception {
    farm.startWorkers(workers(3));
    Path out = work.resolve("image.tar");
    try (CliBuild build = build(fanOut(6, 8), out)) {
      assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
      assertThat(build.workersUsed()).as(build.output()).containsExactlyInAnyOrder("worker-1", "worker-2", "worker-3");
    }
    assertThat(out).isNotEmptyFile();
  }

  @Test
  void buildSucceedsWhenTheWorkerContainerRunningAStageIsKilled() throws Exception {
    farm.startWorkers(workers(3));
    Path out = work.resolve("image.tar");
    try (CliBuild build = build(fanOut(1, 20), out)) {
      String[] running = build.awaitRunning(STAGE_START);
      String stage = running[0];
      String victim = running[1];
      farm.killWorker(victim); // SIGKILL mid-RUN: no release, no event; the lease runs out
      assertThat(farm.isRunning(victim)).as("the killed worker container still runs").isFalse();

      assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
      // the client's progress names only the first worker of a stage (a re-run after a lease ran
      // out is not reported as a new "running on"): the survivors' own logs show who re-ran it
      String survivors = farm.workerIds().stream().filter(id -> !id.equals(victim))
          .map(farm::workerLogs).collect(Collectors.joining("\n"));
      assertThat(survivors.lines().filter(l -> RETAKEN.matcher(l).find()))
          .as("a surviving worker took stage %s again; their logs:%n%s", stage, survivors).isNotEmpty();
      assertThat(build.workersOf(stage)).containsExactly(victim);
    }
    assertThat(out).isNotEmptyFile();
  }

  @Test
  void aWorkerCutOffFromTheNetworkMidStageLosesItsStageAndItsLateResultIsNotUsed() throws Exception {
    farm.startWorkers(workers(3));
    // every run of the stage prints and stores a token of its own: the image shows whose result was used
    Path context = work.resolve("context");
    ContainerFarm.writeFile(context, "Dockerfile", """
        FROM busybox AS s1
        RUN t=$(head -c 16 /dev/urandom | md5sum | cut -c1-16) && echo "token $t" && echo "$t" > /s1 && sleep 40
        FROM busybox
        COPY --from=s1 /s1 /out/s1
        """);
    Path out = work.resolve("image.tar");
    try (CliBuild build = build(context, out)) {
      String victim = build.awaitRunning(STAGE_START)[1];
      // its RUN has started (the token is printed as it runs), so the stage is mid-way when the cable goes
      // plain progress prints the RUN's output as "#4 0.000 token 65e7c362e0939b20"
      String victimToken = TOKEN.matcher(build.awaitLine(l -> TOKEN.matcher(l).find(), STAGE_START)).results()
          .findFirst().orElseThrow().group(1);
      farm.disconnectWorker(victim);

      // no heartbeat for the lease timeout: the coordinator gives the stage to a worker it can reach
      List<String> survivors = farm.workerIds().stream().filter(id -> !id.equals(victim)).toList();
      String retaken = awaitLog(survivors, l -> RETAKEN.matcher(l).find() && l.contains("stage"), STAGE_START);
      // back on the network while its own run of the stage still goes on: what it reports now is stale
      farm.reconnectWorker(victim);

      assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
      // the stale worker's attempt ends without its result being taken: stopped when the control
      // topic tells it the attempt is superseded, or finished and its lost record dropped
      String staleEnd = awaitLog(List.of(victim), l -> l.contains(" attempt 1") && STALE_END.matcher(l).find(),
          Duration.ofMinutes(2));
      List<String> copied = OciArchive.filesNamed(out, "out/s1").stream().map(String::strip).toList();
      assertThat(copied).as("one result of stage s1 is in the image (%s; %s; %s)", retaken, staleEnd, build.output())
          .hasSize(1);
      assertThat(copied.getFirst()).as("the result used is not the cut-off worker's").isNotEqualTo(victimToken);
      assertThat(build.output()).as("the run that was used printed its token").contains(" token " + copied.getFirst());
    }
  }

  /** Waits until a line of one of the workers' logs matches; returns it (fails with their logs after {@code timeout}). */
  private static String awaitLog(List<String> workers, Predicate<String> matching, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (String id : workers) {
        var line = farm.workerLogs(id).lines().filter(matching).findFirst();
        if (line.isPresent()) {
          return id + ": " + line.get();
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no such line in the logs of " + workers + " after " + timeout.toSeconds() + " s:\n"
            + workers.stream().map(id -> id + ":\n" + farm.workerLogs(id)).collect(Collectors.joining("\n")));
      }
      Thread.sleep(500);
    }
  }

  @Test
  void workerContainersStartedMidBuildTakeQueuedStages() throws Exception {
    farm.startWorkers(workers(1));
    Path out = work.resolve("image.tar");
    try (CliBuild build = build(fanOut(6, 20), out)) {
      assertThat(build.awaitRunning(STAGE_START)[1]).isEqualTo("worker-1");
      // the other stages wait for a free slot; two more machines join the farm
      farm.startWorkers(List.of("worker-2", "worker-3"));

      assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
      assertThat(build.workersUsed()).as(build.output()).contains("worker-1", "worker-2", "worker-3");
    }
    assertThat(out).isNotEmptyFile();
  }

  @Test
  @Order(Integer.MAX_VALUE) // last: the other tests need not wait for the restarted coordinator
  void buildCompletesWhenTheCoordinatorContainerRestartsMidBuild() throws Exception {
    farm.startWorkers(workers(2));
    Path out = work.resolve("image.tar");
    try (CliBuild build = build(fanOut(2, 15), out)) {
      build.awaitRunning(STAGE_START);
      farm.restartCoordinator(); // the new process resumes the build from its Kafka journal

      assertThat(build.waitFor(BUILD)).as(build.output()).isZero();
    }
    assertThat(farm.coordinatorLogs().lines().filter(l -> l.contains("coordinator listening")).count())
        .as("the coordinator started twice").isEqualTo(2);
    assertThat(out).isNotEmptyFile();
    assertThat(Files.size(out)).isPositive();
  }

}
