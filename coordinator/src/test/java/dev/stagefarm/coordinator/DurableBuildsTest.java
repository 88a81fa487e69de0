package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.InMemoryBuildJournal;
import dev.stagefarm.coordinator.port.JournalEntry;
import dev.stagefarm.coordinator.port.PinnedImage;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WriteFailure;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Durable acknowledgement, the outbox and resume with a pinned plan, over in-memory ports that fail
 * the way Kafka does (unreachable, refusing a record, slow).
 */
class DurableBuildsTest extends BuildCoordinatorTest {

  /** A journal whose writes fail as while the broker is unreachable, until {@link #recover()}. */
  static final class UnreachableJournal implements BuildJournal {
    final InMemoryBuildJournal delegate = new InMemoryBuildJournal();
    volatile boolean reachable;
    final AtomicInteger attempts = new AtomicInteger();

    void recover() {
      reachable = true;
    }

    @Override
    public void record(JournalEntry entry) {
      attempts.incrementAndGet();
      if (!reachable) {
        throw new WriteFailure(WriteFailure.Kind.RETRIABLE, "Kafka unreachable (test)", null);
      }
      delegate.record(entry);
    }

    @Override
    public void forget(String buildId) {
      if (!reachable) {
        throw new WriteFailure(WriteFailure.Kind.RETRIABLE, "Kafka unreachable (test)", null);
      }
      delegate.forget(buildId);
    }

    @Override
    public Collection<JournalEntry> replay() {
      return delegate.replay();
    }

    @Override
    public void close() {}
  }

  @Test
  void aBuildWhoseRecordIsNotDurableIsRefusedAndNeverRuns() throws Exception {
    UnreachableJournal journal = new UnreachableJournal();
    BuildCoordinator c = coordinator(queue, journal, planner);

    assertThatThrownBy(() -> c.submit(SubmitBuildRequest.newBuilder().build()))
        .isInstanceOf(BuildCoordinator.BuildNotAccepted.class)
        .hasMessageContaining("the build was not started")
        .hasMessageContaining("Kafka unreachable (test)");
    assertThat(c.list()).isEmpty();
    Thread.sleep(200);
    assertThat(published).isEmpty();

    // the broker comes back: the late write (the record being retried when SubmitBuild gave up) is
    // followed by a FAILED one, so it cannot resurrect a build the client was told did not start
    journal.recover();
    for (int i = 0; i < 500 && !journal.delegate.replay().stream()
        .anyMatch(e -> e.status().getState() == BuildState.FAILED); i++) {
      Thread.sleep(10);
    }
    assertThat(journal.delegate.replay()).singleElement()
        .satisfies(e -> assertThat(e.status().getState()).isEqualTo(BuildState.FAILED));
    BuildCoordinator restarted = coordinator(queue, journal, planner);
    assertThat(restarted.resumeFromJournal()).isZero();
    Thread.sleep(100);
    assertThat(published).isEmpty();
  }

  @Test
  void anOutageDelaysTasksButLosesNoneAndKeepsTheirOrder() throws Exception {
    AtomicInteger failuresLeft = new AtomicInteger(3);
    List<StageJob> written = new CopyOnWriteArrayList<>();
    TaskQueue flaky = new TaskQueue() {
      @Override
      public void publish(StageJob job) {
        if (failuresLeft.getAndDecrement() > 0) {
          throw new WriteFailure(WriteFailure.Kind.RETRIABLE, "broker unreachable (test)", null);
        }
        written.add(job);
      }

      @Override
      public void close() {}
    };
    BuildCoordinator c = coordinator(flaky, memoryJournal, planner);
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    awaitSize(written, 1);
    c.onEvent(completed(written.get(0), "built"));
    awaitSize(written, 2);
    assertThat(written).extracting(j -> j.stageId() + "#" + j.attempt()).containsExactly("0-build#1", "1#1");
    c.onEvent(completed(written.get(1), "final"));
    assertThat(awaitFinished(c, id).getState()).isEqualTo(BuildState.SUCCEEDED);
  }

  @Test
  void statusCallsAnswerWhilePublishingIsStuck() throws Exception {
    CountDownLatch brokerBack = new CountDownLatch(1);
    TaskQueue stuck = new TaskQueue() {
      @Override
      public void publish(StageJob job) {
        try {
          brokerBack.await(); // as producer.send blocking on an unreachable broker
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void close() {}
    };
    BuildCoordinator c = coordinator(stuck, memoryJournal, planner);
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    try {
      assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
        for (int i = 0; i < 20; i++) {
          assertThat(c.status(id)).isPresent();
          assertThat(c.list()).hasSize(1);
          Thread.sleep(10);
        }
        c.onEvent(event(new StageJob(id, "0-build", "build", 1, true, new dev.stagefarm.coordinator.port.ProgramRef
            .Inline(program("build", List.of())), result("scratch"), Map.of()), new WorkerEvent.Started()));
      });
    } finally {
      brokerBack.countDown();
    }
  }

  @Test
  void aTaskKafkaRefusesFailsItsBuildNamingTheReason() throws Exception {
    TaskQueue refusing = new TaskQueue() {
      @Override
      public void publish(StageJob job) {
        throw new WriteFailure(WriteFailure.Kind.REFUSED,
            "writing x to stagefarm.tasks was refused: the record of 2000000 bytes is over the broker's size limit", null);
      }

      @Override
      public void close() {}
    };
    BuildCoordinator c = coordinator(refusing, memoryJournal, planner);
    String id = c.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    BuildStatus done = awaitFinished(c, id);
    assertThat(done.getState()).isEqualTo(BuildState.FAILED);
    assertThat(done.getError()).isEqualTo("stage build could not be handed to the workers: writing x to"
        + " stagefarm.tasks was refused: the record of 2000000 bytes is over the broker's size limit");
  }

  @Test
  void aResumedBuildPlansAgainstItsPinnedImagesAndNumbersProgressAfterTheOldSequence() throws Exception {
    PinnedImage busybox = new PinnedImage("registry/busybox@sha256:" + "1".repeat(64), "sha256:" + "1".repeat(64),
        new StageResult(List.of(), new byte[0], "registry/busybox@sha256:" + "1".repeat(64)));
    List<Map<String, PinnedImage>> replans = new CopyOnWriteArrayList<>();
    BuildPlanner pinning = new BuildPlanner() {
      @Override
      public BuildPlan plan(String buildId, SubmitBuildRequest request) throws dev.stagefarm.coordinator.plan.PlanningException {
        BuildPlan plan = planner.plan(buildId, request);
        return new BuildPlan(buildId, plan.stages(), plan.targetStageId(), Map.of("busybox:latest", busybox));
      }

      @Override
      public BuildPlan replan(String buildId, SubmitBuildRequest request, Map<String, PinnedImage> pins) {
        replans.add(pins);
        try {
          return planner.plan(buildId, request);
        } catch (dev.stagefarm.coordinator.plan.PlanningException e) {
          throw new AssertionError(e);
        }
      }
    };
    BuildCoordinator first = coordinator(queue, memoryJournal, pinning);
    String id = first.submit(SubmitBuildRequest.newBuilder().build()).getBuildId();
    List<BuildProgress> before = new CopyOnWriteArrayList<>();
    first.watch(id, 0, watcher(before));
    first.onEvent(event(published(0), new WorkerEvent.Started()));
    Thread.sleep(100);
    long lastSeen = before.get(before.size() - 1).getSequence();
    first.close();

    BuildCoordinator second = coordinator(queue, memoryJournal, pinning);
    assertThat(second.resumeFromJournal()).isEqualTo(1);
    assertThat(replans).containsExactly(Map.of("busybox:latest", busybox));

    List<BuildProgress> after = new CopyOnWriteArrayList<>();
    second.watch(id, lastSeen, watcher(after));
    assertThat(after).isNotEmpty();
    assertThat(after.get(0).getSequence()).isEqualTo(ProgressLog.firstSequence(1));
    assertThat(after.get(0).getBuild().getState()).isEqualTo(BuildState.RUNNING); // where the build stands
    assertThat(after).extracting(BuildProgress::getSequence).allMatch(s -> s > lastSeen).isSorted();
    // the epoch is durable: a third coordinator numbers after the second's entries
    Thread.sleep(100);
    assertThat(memoryJournal.replay()).singleElement().satisfies(e -> assertThat(e.progressEpoch()).isEqualTo(1));
  }

  private static ProgressLog.Watcher watcher(List<BuildProgress> into) {
    return new ProgressLog.Watcher() {
      @Override
      public void next(BuildProgress progress) {
        into.add(progress);
      }

      @Override
      public void end() {}
    };
  }

  private static void awaitSize(List<?> list, int size) throws InterruptedException {
    for (int i = 0; i < 500 && list.size() < size; i++) {
      Thread.sleep(10);
    }
    assertThat(list).hasSizeGreaterThanOrEqualTo(size);
  }
}
