package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm ls}, {@code logs}, {@code cancel}, {@code du} and {@code prune} against a real
 * farm (Kafka, S3, workers running runc), through the CLI as a user runs them.
 */
class FarmCommandsEndToEndTest {
  @TempDir Path dir;

  private String[] remote(String... args) throws Exception {
    String[] full = new String[args.length + 2];
    System.arraycopy(args, 0, full, 0, args.length);
    full[args.length] = "--coordinator";
    full[args.length + 1] = FarmUnderTest.farm().endpoint();
    return full;
  }

  private Path context(String dockerfile) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx-" + UUID.randomUUID()));
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
    return ctx;
  }

  @Test
  void lsListsEachBuildWithItsStateTargetTagsAndTimesAndLogsReplaysItsRunOutput() throws Exception {
    String marker = "marker-" + UUID.randomUUID();
    Path ctx = context("FROM %s AS base\nRUN echo %s\nFROM base AS final\nRUN echo done\n"
        .formatted(FarmUnderTest.busybox(), marker));
    FarmUnderTest.Result built = FarmUnderTest.build("--target", "final", "-t", "example/ls-test:1", ctx.toString());
    assertThat(built.exitCode()).isZero();
    String id = FarmUnderTest.lastBuild().getBuildId();

    FarmUnderTest.Result ls = FarmUnderTest.stagefarm(remote("ls"));
    assertThat(ls.exitCode()).isZero();
    assertThat(ls.stdout().lines().findFirst().orElseThrow())
        .contains("BUILD ID", "STATE", "TARGET", "TAGS", "CREATED", "DURATION");
    String row = ls.stdout().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow();
    assertThat(row).contains("SUCCEEDED", "final", "example/ls-test:1").matches(".*\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ.*")
        .matches(".*\\d+\\.\\ds$");

    FarmUnderTest.Result ids = FarmUnderTest.stagefarm(remote("ls", "-q", "--last", "1"));
    assertThat(ids.stdout().strip()).isEqualTo(id);

    FarmUnderTest.Result logs = FarmUnderTest.stagefarm(remote("logs", id));
    assertThat(logs.exitCode()).isZero();
    assertThat(logs.stdout()).contains("[base 1/1] RUN echo " + marker, "[final 1/1] RUN echo done",
        "build " + id + " succeeded");
    // in order: the base stage's RUN output (a "#N SECONDS text" line) before the final stage's
    assertThat(logs.stdout()).containsPattern("(?m)^#\\d+ \\d+\\.\\d+ " + marker + "$")
        .containsPattern("(?m)^#\\d+ \\d+\\.\\d+ done$");
    assertThat(logs.stdout().indexOf(" " + marker + "\n")).isLessThan(logs.stdout().indexOf(" done\n"));
  }

  @Test
  void cancelStopsARunningBuildAndAnUnknownIdIsAnErrorNamingIt() throws Exception {
    BuildClient client = FarmUnderTest.client();
    BuildStatus submitted = CancelAndDeadlineEndToEndTest.submit(client, dir.resolve("ctx"),
        "FROM %s\nRUN echo started; sleep 300\n".formatted(FarmUnderTest.busybox()));
    String id = submitted.getBuildId();
    awaitRunning(client, id);

    FarmUnderTest.Result cancelled = FarmUnderTest.stagefarm(remote("cancel", id));
    assertThat(cancelled.exitCode()).isZero();
    assertThat(cancelled.stdout().strip()).isEqualTo(id + " cancelled");
    assertThat(client.getBuild(id).getState()).isEqualTo(BuildState.CANCELLED);

    FarmUnderTest.Result unknown = FarmUnderTest.stagefarm(remote("cancel", "0123456789abcdef"));
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.stderr()).contains("cancelling build 0123456789abcdef failed: no build 0123456789abcdef");
  }

  private static void awaitRunning(BuildClient client, String id) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (client.getBuild(id).getStagesList().stream().anyMatch(s -> s.getState() == StageState.STAGE_RUNNING)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("build " + id + " did not start running: " + client.getBuild(id));
  }

  @Test
  void duShowsTheStoreByAreaAndPruneAllDropsTheCacheSoTheNextBuildRunsAgain() throws Exception {
    Path ctx = context("FROM %s\nRUN echo %s > /x\n".formatted(FarmUnderTest.busybox(), UUID.randomUUID()));
    assertThat(FarmUnderTest.build(ctx.toString()).exitCode()).isZero();
    FarmUnderTest.Result cached = FarmUnderTest.build(ctx.toString());
    assertThat(cached.stderr()).contains("CACHED");

    FarmUnderTest.Result du = FarmUnderTest.stagefarm(remote("du"));
    assertThat(du.exitCode()).isZero();
    assertThat(du.stdout()).contains("AREA", "blobs", "context", "cache records", "total", "reclaimable:");
    assertThat(objects(du.stdout(), "cache records")).isPositive();
    assertThat(objects(du.stdout(), "blobs")).isPositive();

    FarmUnderTest.Result dry = FarmUnderTest.stagefarm(remote("prune", "--all", "--dry-run"));
    assertThat(dry.stdout()).startsWith("would delete ");
    assertThat(objects(FarmUnderTest.stagefarm(remote("du")).stdout(), "cache records")).isPositive();

    FarmUnderTest.Result prune = FarmUnderTest.stagefarm(remote("prune", "--all"));
    assertThat(prune.exitCode()).isZero();
    assertThat(prune.stdout()).matches("(?s)deleted [1-9]\\d* cache records and \\d+ objects .*");
    assertThat(objects(FarmUnderTest.stagefarm(remote("du")).stdout(), "cache records")).isZero();

    // the layers are within the coordinator's grace and stay; without records the stage runs again
    FarmUnderTest.Result again = FarmUnderTest.build(ctx.toString());
    assertThat(again.exitCode()).isZero();
    assertThat(again.stderr()).doesNotContain("CACHED").contains("DONE");
  }

  @Test
  void theCommandsWithoutACoordinatorSayHowToNameOne() {
    FarmUnderTest.Result ls = FarmUnderTest.stagefarm("ls", "--coordinator", "");
    assertThat(ls.exitCode()).isEqualTo(1);
    assertThat(ls.stderr()).contains("stagefarm ls talks to a running farm: pass --coordinator HOST:PORT");
    FarmUnderTest.Result prune = FarmUnderTest.stagefarm("prune", "--all", "--keep-duration", "1h", "--coordinator", "x:1");
    assertThat(prune.stderr()).contains("--all and --keep-duration do not go together");
  }

  /** The OBJECTS column of an area in {@code du}'s table. */
  private static long objects(String du, String area) {
    String row = du.lines().filter(l -> l.startsWith(area + "  ")).findFirst().orElseThrow();
    return Long.parseLong(row.substring(area.length()).strip().split("\\s+")[0]);
  }
}
