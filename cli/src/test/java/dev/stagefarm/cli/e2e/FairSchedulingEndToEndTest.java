package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.schedule.SchedulingPolicy;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageStatus;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.worker.Worker;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fair dispatch on a real farm (Kafka, S3, one worker with one slot running runc): tenant A's
 * 100-stage build fills the queue; tenant B's one-stage build and a high-priority build of A start
 * within one stage-time of their submission, asserted on the order stages started (never on wall
 * time); a tenant over its queued-stage limit is refused naming the limit, and `ls` shows where a
 * build waits.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FairSchedulingEndToEndTest {
  private static final int WIDE = 100;
  @TempDir static Path dir;
  private static EmbeddedFarm farm;
  private static String busybox;
  private static BuildClient client;
  private static BuildStatus wide;

  @BeforeAll
  static void start() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    // one slot and no margin: exactly one stage is out at a time, so "within one stage-time" is
    // "at most the stage that was out when it was submitted starts before it"
    // at most 99 stages held per tenant: a wide build is admitted, a tenant holding one more is not
    // (and 50 stages out while no worker has reported: the wait below makes sure one has)
    SchedulingPolicy policy = new SchedulingPolicy(Map.of(), 0, Map.of("a", 5), WIDE - 1, 100_000, 0, 50, 20);
    farm = PrivateFarm.start(dir.resolve("home"), 1, PrivateFarm.COORDINATOR.withScheduling(policy), 0,
        config -> new Worker(config.withConcurrency(1)).start());
    client = new BuildClient(farm.channel(), farm.endpoint());
    BuildCoordinator coordinator = farm.coordinator().coordinator();
    CancelAndDeadlineEndToEndTest.awaitTrue(() -> coordinator.workerSlots().workers() == 1, Duration.ofMinutes(1),
        "the worker's first slot report");
    wide = submit(wideDockerfile(WIDE), "a", 0);
  }

  @AfterAll
  static void stop() {
    if (farm != null) {
      farm.close();
    }
  }

  /** {@code stages} independent stages, each a short RUN, that the target copies from. */
  private static String wideDockerfile(int stages) {
    StringBuilder dockerfile = new StringBuilder();
    String salt = UUID.randomUUID().toString();
    for (int i = 0; i < stages; i++) {
      dockerfile.append("FROM %s AS s%d\nRUN echo %s-%d > /out && sleep 0.3\n".formatted(busybox, i, salt, i));
    }
    dockerfile.append("FROM ").append(busybox).append('\n');
    for (int i = 0; i < stages; i++) {
      dockerfile.append("COPY --from=s%d /out /out%d\n".formatted(i, i));
    }
    return dockerfile.toString();
  }

  @Test
  @Order(1)
  void aSmallBuildOfTenantBStartsWithinOneStageTimeBehindAHundredStagesOfTenantA() throws Exception {
    awaitStarted(wide.getBuildId(), 2); // tenant A's build is under way, its other stages held

    BuildStatus small = submit("FROM %s\nRUN echo %s > /b\n".formatted(busybox, UUID.randomUUID()), "b", 0);
    BuildStatus done = client.watch(small.getBuildId(), progress -> {});

    assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(done.getTenant()).isEqualTo("b");
    assertThat(startedBetween(wide.getBuildId(), done.getCreatedMs(), done.getStages(0).getStartedMs()))
        .as("stages of tenant A that started after B's submission and before B's stage").isLessThanOrEqualTo(1);
    assertThat(client.getBuild(wide.getBuildId()).getState()).isEqualTo(BuildState.RUNNING);
    // the capacity came from the worker's signed slot report: one worker, one slot, no margin
    BuildCoordinator coordinator = farm.coordinator().coordinator();
    assertThat(coordinator.workerSlots().workers()).isEqualTo(1);
    assertThat(coordinator.workerSlots().slots()).isEqualTo(1);
    assertThat(coordinator.dispatchState().capacity()).isEqualTo(1);
    assertThat(coordinator.dispatchState().inFlight()).isLessThanOrEqualTo(1);
  }

  @Test
  @Order(2)
  void aTenantOverItsQueuedStageLimitIsRefusedNamingTheLimitAndLsShowsWhereABuildWaits() throws Exception {
    // tenant c at the lowest priority: none of its stages is released while a's wait, so its
    // queue holds all of them
    BuildStatus background = submit(wideDockerfile(WIDE), "c", -100);
    BuildStatus waiting = client.getBuild(background.getBuildId());
    assertThat(waiting.getHeldStages()).isEqualTo(WIDE);
    assertThat(waiting.getQueuePosition()).isZero();

    // BuildClient turns the status (RESOURCE_EXHAUSTED, PERMISSION_DENIED) into the user's message
    assertThatThrownBy(() -> submit("FROM %s\nRUN true\n".formatted(busybox), "c", 0))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("tenant c has " + WIDE + " stages waiting for a worker slot")
        .hasMessageContaining("max-queued-stages-per-tenant is " + (WIDE - 1));
    assertThatThrownBy(() -> submit("FROM %s\nRUN true\n".formatted(busybox), "b", 9))
        .isInstanceOf(UserError.class)
        .hasMessageContaining("--priority 9 is out of tenant b's range -100..0");

    FarmUnderTest.Result ls = FarmUnderTest.stagefarm("ls", "--coordinator", farm.endpoint());
    assertThat(ls.exitCode()).isZero();
    assertThat(ls.stdout()).contains("TENANT", "QUEUE")
        .containsPattern(background.getBuildId() + " +RUNNING +c \\(-100\\) .* " + WIDE + " held, #1, [0-9.]+s")
        .containsPattern(wide.getBuildId() + " +RUNNING +a .* \\d+ held, #1, [0-9.]+s");
    client.cancel(background.getBuildId());
  }

  @Test
  @Order(3)
  void aHighPriorityBuildOvertakesQueuedLowPriorityStagesOfTheSameTenant() throws Exception {
    // same tenant as the wide build: only the priority can put it first
    BuildStatus urgent = submit("FROM %s\nRUN echo %s > /u\n".formatted(busybox, UUID.randomUUID()), "a", 5);
    BuildStatus done = client.watch(urgent.getBuildId(), progress -> {});

    assertThat(done.getState()).as(done.getError()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(done.getPriority()).isEqualTo(5);
    assertThat(startedBetween(wide.getBuildId(), done.getCreatedMs(), done.getStages(0).getStartedMs()))
        .isLessThanOrEqualTo(1);
    client.cancel(wide.getBuildId());
  }

  /** Stages of the build that started after {@code fromMs} and before {@code toMs}. */
  private static long startedBetween(String buildId, long fromMs, long toMs) {
    return client.getBuild(buildId).getStagesList().stream()
        .mapToLong(StageStatus::getStartedMs)
        .filter(started -> started > fromMs && started < toMs)
        .count();
  }

  private static void awaitStarted(String buildId, int stages) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (client.getBuild(buildId).getStagesList().stream().filter(s -> s.getStartedMs() > 0
        && s.getState() != dev.stagefarm.proto.v1.StageState.STAGE_QUEUED).count() < stages) {
      if (System.nanoTime() > end) {
        throw new AssertionError("waited 3 min for " + stages + " stages of " + buildId + " to start");
      }
      Thread.sleep(100);
    }
  }

  private static BuildStatus submit(String dockerfile, String tenant, int priority) throws IOException {
    return CancelAndDeadlineEndToEndTest.submit(client, dir.resolve("ctx-" + UUID.randomUUID()), dockerfile,
        request -> request.setTenant(tenant).setPriority(priority));
  }
}
