package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.schedule.ManualClock;
import dev.stagefarm.oci.Platform;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerPresenceTest {
  static final Platform AMD64 = new Platform("linux", "amd64");
  static final Platform ARM64 = new Platform("linux", "arm64");
  static final Platform ARMV7 = new Platform("linux", "arm", "v7");

  final ManualClock clock = new ManualClock();
  final WorkerPresence presence = new WorkerPresence(clock);

  @Test
  void aPlatformNoAnnouncingWorkerRunsIsNamedOnceTheCoordinatorListenedAWholeWindow() {
    presence.seen("w1", List.of(AMD64), clock.millis());
    presence.seen("w2", List.of(ARM64), clock.millis());
    assertThat(presence.noWorkerFor(ARMV7)).as("too early to tell").isEmpty();

    clock.advance(Duration.ofSeconds(10));
    presence.seen("w1", List.of(AMD64), clock.millis());
    presence.seen("w2", List.of(ARM64), clock.millis());
    clock.advance(Duration.ofSeconds(6));
    assertThat(presence.noWorkerFor(AMD64)).isEmpty();
    assertThat(presence.noWorkerFor(ARMV7)).contains("no worker runs linux/arm/v7: the workers that announced"
        + " themselves in the last 15s run linux/amd64, linux/arm64 (a worker's platforms setting; another platform"
        + " runs under qemu-user-static)");
  }

  @Test
  void aWorkerSilentForAWindowNoLongerCountsAndAReplayedOldAnnouncementIsIgnored() {
    clock.advance(Duration.ofSeconds(20));
    presence.seen("w1", List.of(AMD64), clock.millis());
    presence.seen("w2", List.of(ARM64), clock.millis() - 60_000); // replayed from before a takeover
    assertThat(presence.noWorkerFor(ARM64)).isPresent();
    clock.advance(Duration.ofSeconds(16));
    assertThat(presence.noWorkerFor(AMD64)).as("nobody announced lately: no conclusion").isEmpty();
    presence.seen("w2", List.of(ARM64), clock.millis());
    assertThat(presence.noWorkerFor(AMD64)).hasValueSatisfying(why -> assertThat(why)
        .startsWith("no worker runs linux/amd64: the workers that announced themselves in the last 15s run linux/arm64"));
  }

  @Test
  void workersSilentForAWindowAreForgottenAndTheTableIsBounded() {
    for (int i = 0; i < WorkerPresence.MAX_WORKERS + 100; i++) {
      presence.seen("w" + i, List.of(AMD64), clock.millis());
    }
    assertThat(presence.tracked()).isEqualTo(WorkerPresence.MAX_WORKERS);

    clock.advance(Duration.ofSeconds(16));
    presence.seen("fresh", List.of(ARM64), clock.millis());
    assertThat(presence.tracked()).as("the silent ones are gone").isEqualTo(1);
    assertThat(presence.noWorkerFor(ARM64)).isEmpty();
    assertThat(presence.noWorkerFor(AMD64)).isPresent();
  }

  @Test
  void withoutAnyAnnouncementTheQueueLeaseDecides() {
    clock.advance(Duration.ofMinutes(5));
    assertThat(presence.noWorkerFor(AMD64)).isEmpty();
  }
}
