package dev.stagefarm.worker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Idle slots of one share group in a process fetch in turns; other groups and stops never wait on them. */
class IdlePollersTest {
  private static final Duration SLICE = Duration.ofMillis(10);
  private final String group = "group-" + UUID.randomUUID();

  @Test
  void oneIdleSlotOfAGroupHoldsTheTurnUntilItsPollReturns() throws Exception {
    IdlePollers pollers = IdlePollers.of("broker:9092", group);
    try (IdlePollers.Turn first = pollers.await(Duration.ofSeconds(5), SLICE, () -> false)) {
      assertThat(first.held()).isTrue();
      // a second slot of the group waits; after its longest wait it polls anyway, without the turn
      try (IdlePollers.Turn second = IdlePollers.of("broker:9092", group).await(Duration.ofMillis(50), SLICE,
          () -> false)) {
        assertThat(second.held()).isFalse();
      }
    }
    try (IdlePollers.Turn next = pollers.await(Duration.ofSeconds(5), SLICE, () -> false)) {
      assertThat(next.held()).as("handed on when the first poll returned").isTrue();
    }
  }

  @Test
  void slotsOfAnotherGroupOrBrokerDoNotWait() throws Exception {
    try (IdlePollers.Turn held = IdlePollers.of("broker:9092", group).await(Duration.ofSeconds(5), SLICE, () -> false);
        IdlePollers.Turn otherGroup = IdlePollers.of("broker:9092", group + "-b").await(Duration.ofSeconds(5), SLICE,
            () -> false);
        IdlePollers.Turn otherBroker = IdlePollers.of("elsewhere:9092", group).await(Duration.ofSeconds(5), SLICE,
            () -> false)) {
      assertThat(held.held()).isTrue();
      assertThat(otherGroup.held()).isTrue();
      assertThat(otherBroker.held()).isTrue();
    }
  }

  @Test
  void aStoppingSlotStopsWaitingForTheTurn() throws Exception {
    IdlePollers pollers = IdlePollers.of("broker:9092", group);
    try (IdlePollers.Turn held = pollers.await(Duration.ofSeconds(5), SLICE, () -> false);
        IdlePollers.Turn stopping = pollers.await(Duration.ofHours(1), SLICE, () -> true)) {
      assertThat(held.held()).isTrue();
      assertThat(stopping.held()).isFalse();
    }
  }

  @Test
  void closingATurnTwiceHandsItOnOnce() throws Exception {
    IdlePollers pollers = IdlePollers.of("broker:9092", group);
    IdlePollers.Turn first = pollers.await(Duration.ofSeconds(5), SLICE, () -> false);
    first.close();
    first.close();
    try (IdlePollers.Turn a = pollers.await(Duration.ofSeconds(5), SLICE, () -> false);
        IdlePollers.Turn b = pollers.await(Duration.ofMillis(50), SLICE, () -> false)) {
      assertThat(a.held()).isTrue();
      assertThat(b.held()).as("still one turn, not two").isFalse();
    }
  }
}
