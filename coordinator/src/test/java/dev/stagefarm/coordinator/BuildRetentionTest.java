package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.port.InMemoryBuildJournal;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.ManualClock;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Finished builds leave the coordinator's memory and journal after their retention; ListBuilds pages. */
class BuildRetentionTest {
  static final Retention RETENTION = new Retention(Duration.ofMinutes(10), Duration.ofHours(1), 3, Duration.ofHours(1));
  static final String IMAGE = "sha256:" + "a".repeat(64);

  final ManualClock clock = new ManualClock();
  final InMemoryBuildJournal journal = new InMemoryBuildJournal();
  final List<BuildCoordinator> coordinators = new ArrayList<>();

  /** One stage, fully cached: the build completes without a worker. */
  final BuildPlanner cachedPlanner = (buildId, request) -> {
    StageResult scratch = new StageResult(List.of(), new byte[0], "scratch");
    StageProgram program = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(), List.of(),
        Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "only");
    return new BuildPlan(buildId, List.of(new PlannedStage("0", "0", 0, program, List.of(), Optional.of(scratch),
        Optional.empty(), Map.of(), Map.of(), Optional.of(scratch))), "0");
  };

  BuildCoordinator coordinator() {
    BuildCoordinator c = new BuildCoordinator(clock,
        new BuildCoordinator.Settings(Scheduler.Settings.DEFAULT, Duration.ofSeconds(1)).withRetention(RETENTION),
        new InMemoryTaskQueue(), journal, cachedPlanner, (target, tags, push) -> IMAGE);
    coordinators.add(c);
    return c;
  }

  @AfterEach
  void close() {
    coordinators.forEach(BuildCoordinator::close);
  }

  static BuildStatus awaitFinished(BuildCoordinator c, String id) throws InterruptedException {
    for (int i = 0; i < 500; i++) {
      BuildStatus s = c.status(id).orElseThrow();
      if (s.getState() == BuildState.SUCCEEDED || s.getState() == BuildState.FAILED) {
        return s;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("build " + id + " did not finish");
  }

  String finishedBuild(BuildCoordinator c) throws InterruptedException {
    String id = c.submit(SubmitBuildRequest.newBuilder().setTarget("t").build()).getBuildId();
    assertThat(awaitFinished(c, id).getState()).isEqualTo(BuildState.SUCCEEDED);
    return id;
  }

  @Test
  void aFinishedBuildKeepsItsDetailsForTheRetentionThenOnlyItsSummaryAndItsJournalRecordIsTombstoned()
      throws Exception {
    BuildCoordinator c = coordinator();
    String id = finishedBuild(c);
    for (int i = 0; i < 500 && c.scheduledBuilds() > 0; i++) {
      Thread.sleep(10); // the finishing thread forgets it right after publishing the final status
    }
    assertThat(c.scheduledBuilds()).as("the scheduler forgets a finished build at once").isZero();
    assertThat(c.status(id).orElseThrow().getStagesList()).as("its stages' last states stay").hasSize(1);

    clock.advance(RETENTION.details().minusMillis(1));
    c.sweepFinished();
    assertThat(c.buildIds()).contains(id);
    c.flushJournal();
    assertThat(journal.replay()).extracting(JournalEntry::buildId).contains(id);

    clock.advance(Duration.ofMillis(1));
    c.sweepFinished();
    c.flushJournal();
    assertThat(c.buildIds()).doesNotContain(id);
    assertThat(c.progressAfter(id, 0, 10)).as("its progress log is gone").isEmpty();
    BuildStatus summary = c.status(id).orElseThrow();
    assertThat(summary.getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(summary.getImageDigest()).isEqualTo(IMAGE);
    assertThat(summary.getFinishedMs()).isPositive();
    assertThat(summary.getStagesList()).isEmpty();
    assertThat(journal.replay()).extracting(JournalEntry::buildId).doesNotContain(id);

    // a restarted coordinator does not bring it back
    BuildCoordinator restarted = coordinator();
    restarted.resumeFromJournal();
    assertThat(restarted.buildIds()).doesNotContain(id);

    clock.advance(RETENTION.summaries());
    c.sweepFinished();
    assertThat(c.status(id)).as("the summary goes after its own retention").isEmpty();
  }

  @Test
  void watchingAnEvictedBuildGivesItsFinalStatusAndEnds() throws Exception {
    BuildCoordinator c = coordinator();
    String id = finishedBuild(c);
    clock.advance(RETENTION.details());
    c.sweepFinished();

    List<BuildProgress> seen = new CopyOnWriteArrayList<>();
    boolean[] ended = {false};
    assertThat(c.watch(id, 0, new ProgressLog.Watcher() {
      @Override public void next(BuildProgress p) { seen.add(p); }
      @Override public void end() { ended[0] = true; }
    })).isTrue();
    assertThat(seen).singleElement().satisfies(p -> assertThat(p.getBuild().getState()).isEqualTo(BuildState.SUCCEEDED));
    assertThat(ended[0]).isTrue();
  }

  @Test
  void summariesOverTheCountGoOldestFirst() throws Exception {
    BuildCoordinator c = coordinator();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(finishedBuild(c));
      clock.advance(Duration.ofSeconds(1));
    }
    clock.advance(RETENTION.details());
    c.sweepFinished();

    assertThat(c.summaryCount()).isEqualTo(RETENTION.maxSummaries());
    assertThat(c.status(ids.get(0))).isEmpty();
    assertThat(c.status(ids.get(1))).isEmpty();
    assertThat(c.status(ids.get(4))).isPresent();
  }

  @Test
  void aBuildThatFinishedLongerAgoThanTheRetentionIsEvictedWhenTheJournalIsReplayed() throws Exception {
    BuildCoordinator first = coordinator();
    String id = finishedBuild(first);
    first.flushJournal();
    first.close();

    clock.advance(RETENTION.details().plusMinutes(1)); // the coordinator was down meanwhile
    BuildCoordinator restarted = coordinator();
    restarted.resumeFromJournal();
    restarted.flushJournal();

    assertThat(restarted.buildIds()).doesNotContain(id);
    assertThat(restarted.status(id).orElseThrow().getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(journal.replay()).extracting(JournalEntry::buildId).doesNotContain(id);
  }

  @Test
  void listBuildsPagesOldestFirstWithTokensAndABoundedPageSize() throws Exception {
    BuildCoordinator c = coordinator();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      ids.add(finishedBuild(c));
      clock.advance(Duration.ofMillis(1));
    }
    clock.advance(RETENTION.details());
    c.sweepFinished(); // the oldest become summaries (3 kept), the rest are dropped: both kinds page the same
    for (int i = 0; i < 4; i++) {
      ids.add(finishedBuild(c));
      clock.advance(Duration.ofMillis(1));
    }
    List<String> expected = ids.subList(4, ids.size());

    List<String> paged = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    String token = "";
    do {
      BuildPage page = c.list(3, token);
      page.builds().forEach(b -> paged.add(b.getBuildId()));
      sizes.add(page.builds().size());
      token = page.nextPageToken();
    } while (!token.isEmpty());

    assertThat(paged).containsExactlyElementsOf(expected);
    assertThat(sizes).containsExactly(3, 3, 1);
    assertThat(c.list(0, "").builds()).hasSize(expected.size()); // 0 means the default size
    assertThatThrownBy(() -> c.list(3, "not-a-token!"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("page_token");
  }

  @Test
  void aPageIsNeverLargerThanTheMaximum() throws Exception {
    BuildCoordinator c = coordinator();
    for (int i = 0; i < BuildPage.MAX_SIZE + 1; i++) {
      c.submit(SubmitBuildRequest.newBuilder().setTarget("t").build());
      clock.advance(Duration.ofMillis(1));
    }
    BuildPage page = c.list(1_000_000, "");
    assertThat(page.builds()).hasSize(BuildPage.MAX_SIZE);
    assertThat(c.list(1_000_000, page.nextPageToken()).builds()).hasSize(1);
  }
}
