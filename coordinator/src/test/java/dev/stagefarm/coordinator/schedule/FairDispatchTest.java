package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.content.StageResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The scheduler holding ready stages back in its fair queue and releasing them by capacity. */
class FairDispatchTest {

  final ManualClock clock = new ManualClock();
  final List<String> dispatched = new ArrayList<>();
  final Scheduler scheduler = new Scheduler(clock, new Scheduler.Settings(Duration.ofSeconds(10), 3),
      (b, s, a, in) -> dispatched.add(b + "/" + s + "#" + a), SchedulerListener.NONE);

  static Scheduler.BuildClass tenant(String name, int priority) {
    return new Scheduler.BuildClass(name, 1, priority);
  }

  static List<StageSpec> independent(int count) {
    return IntStream.range(0, count).mapToObj(i -> StageSpec.of("s" + i, List.of(), "", 1)).toList();
  }

  static StageResult result() {
    return new StageResult(List.of(), new byte[0], "x");
  }

  /** Starts and completes the task {@code "build/stage#attempt"}. */
  void run(String task) {
    String[] parts = task.split("[/#]");
    int attempt = Integer.parseInt(parts[2]);
    scheduler.onStarted(parts[0], parts[1], attempt, "w");
    scheduler.onCompleted(parts[0], parts[1], attempt, result());
  }

  @Test
  void neverReleasesMoreThanTheCapacity() {
    scheduler.setCapacity(8);
    scheduler.submit("a", independent(100), tenant("a", 0));

    assertThat(dispatched).hasSize(8);
    assertThat(scheduler.dispatchState().held()).isEqualTo(92);
    assertThat(scheduler.dispatchState().inFlight()).isEqualTo(8);

    run(dispatched.get(0));

    assertThat(dispatched).hasSize(9);
  }

  @Test
  void aSmallBuildOfTenantBGoesOutWithTheFirstFreeSlotBehindAHundredStagesOfTenantA() {
    scheduler.setCapacity(8);
    scheduler.submit("a", independent(100), tenant("a", 0));
    scheduler.submit("b", independent(1), tenant("b", 0));

    assertThat(scheduler.queuePlace("b")).hasValueSatisfying(p -> assertThat(p.ahead()).isZero());
    run(dispatched.get(0)); // one stage-time: the first slot to free

    assertThat(dispatched.get(8)).isEqualTo("b/s0#1");
    assertThat(scheduler.queuePlace("b")).isEmpty();
  }

  @Test
  void aBuildsQueuePlaceIsItsHeldStagesTheTenantsStagesAheadAndItsOldestWait() {
    scheduler.setCapacity(2);
    long aHeld = clock.millis();
    scheduler.submit("a", independent(10), tenant("t", 0));
    clock.advance(Duration.ofSeconds(1));
    scheduler.submit("b", independent(5), tenant("t", 0)); // the same tenant, submitted later

    assertThat(scheduler.queuePlace("a")).contains(new Scheduler.QueuePlace(8, 0, aHeld));
    assertThat(scheduler.queuePlace("b")).contains(new Scheduler.QueuePlace(5, 8, aHeld + 1000));
    run(dispatched.get(0)); // releases one more of a's
    assertThat(scheduler.queuePlace("a")).contains(new Scheduler.QueuePlace(7, 0, aHeld));
    assertThat(scheduler.queuePlace("b")).contains(new Scheduler.QueuePlace(5, 7, aHeld + 1000));
    scheduler.cancel("a");
    assertThat(scheduler.queuePlace("a")).isEmpty();
    assertThat(scheduler.queuePlace("b")).contains(new Scheduler.QueuePlace(3, 0, aHeld + 1000));
  }

  @Test
  void aHighPriorityBuildOvertakesQueuedLowPriorityStagesWithoutPreemptingRunningOnes() {
    scheduler.setCapacity(2);
    scheduler.submit("low", independent(10), tenant("a", 0));
    scheduler.onStarted("low", "s0", 1, "w");
    scheduler.onStarted("low", "s1", 1, "w");
    scheduler.submit("high", independent(2), tenant("a", 5));

    assertThat(dispatched).containsExactly("low/s0#1", "low/s1#1"); // both keep running
    run("low/s0#1");
    run("low/s1#1");

    assertThat(dispatched.subList(2, 4)).containsExactly("high/s0#1", "high/s1#1");
  }

  @Test
  void aRetryKeepsItsSlotInsteadOfQueueingBehindOtherTenants() {
    scheduler.setCapacity(1);
    scheduler.submit("a", independent(1), tenant("a", 0));
    scheduler.submit("b", independent(1), tenant("b", 0));
    scheduler.onStarted("a", "s0", 1, "w");
    scheduler.onFailed("a", "s0", 1, new StageFailure("disk full", true));

    assertThat(dispatched).containsExactly("a/s0#1", "a/s0#2");
  }

  @Test
  void cancellingABuildDropsItsHeldStagesAndFreesItsSlots() {
    scheduler.setCapacity(2);
    scheduler.submit("a", independent(5), tenant("a", 0));
    scheduler.submit("b", independent(2), tenant("b", 0));

    scheduler.cancel("a");

    assertThat(dispatched).containsExactly("a/s0#1", "a/s1#1", "b/s0#1", "b/s1#1");
    assertThat(scheduler.dispatchState().held()).isZero();
    assertThat(scheduler.dispatchState().tenants()).extracting(FairQueue.TenantLoad::tenant).containsExactly("b");
  }

  @Test
  void eventsOfAHeldStageAreIgnored() {
    scheduler.setCapacity(1);
    scheduler.submit("a", independent(2), tenant("a", 0));

    assertThat(scheduler.onCompleted("a", "s1", 0, result())).isFalse();
    assertThat(scheduler.onStarted("a", "s1", 0, "w")).isFalse();
  }

  @Test
  void aHeldStageIsNotPublishedAgainByTheQueueLeaseNorFailed() {
    scheduler.setCapacity(1);
    scheduler.submit("a", independent(2), tenant("a", 0));
    clock.advance(Duration.ofMinutes(20)); // past the queue lease of 15 min
    scheduler.onStarted("a", "s0", 1, "w");

    scheduler.checkLeases();

    assertThat(dispatched).containsExactly("a/s0#1");
    assertThat(scheduler.snapshot("a")).extracting(StageSnapshot::state)
        .containsExactly(StageState.RUNNING, StageState.QUEUED);
  }

  @Test
  void onResumeStagesThatWereOutGoOutAtOnceAndHeldOnesQueueAgain() {
    scheduler.setCapacity(1);
    Map<String, Scheduler.RecordedStage> recorded = Map.of(
        "s0", new Scheduler.RecordedStage(StageState.RUNNING, 1, java.util.Optional.empty()),
        "s1", new Scheduler.RecordedStage(StageState.RUNNING, 2, java.util.Optional.empty()),
        "s2", new Scheduler.RecordedStage(StageState.QUEUED, 0, java.util.Optional.empty()));

    scheduler.resume("a", independent(3), recorded, clock.millis(), tenant("a", 0));

    // both were out (over the capacity of 1 after the take-over): they go out again, superseding
    // what may still run; the held one waits for a slot
    assertThat(dispatched).containsExactly("a/s0#2", "a/s1#3");
    assertThat(scheduler.dispatchState().held()).isEqualTo(1);
    run("a/s0#2");
    assertThat(dispatched).containsExactly("a/s0#2", "a/s1#3");
    run("a/s1#3");
    assertThat(dispatched).containsExactly("a/s0#2", "a/s1#3", "a/s2#1");
  }

  @Test
  void raisingTheCapacityReleasesHeldStages() {
    scheduler.setCapacity(0);
    scheduler.submit("a", independent(3), tenant("a", 0));
    assertThat(dispatched).isEmpty();

    scheduler.setCapacity(2);

    assertThat(dispatched).containsExactly("a/s0#1", "a/s1#1");
  }
}
