package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One-shot farms of one home never share a work directory, with each other or with the local farm's. */
class OneShotSlotTest {
  @TempDir Path home;

  @Test
  void farmsRunningAtOnceGetSlotsOfTheirOwnAndAFreedSlotIsTakenAgain() throws IOException {
    try (FarmWorkersDir first = FarmWorkersDir.takeOneShotSlot(home)) {
      assertThat(first.workers()).isEqualTo(home.resolve("oneshot").resolve("1"));
      assertThat(first.workers().startsWith(home.resolve("workers"))).as("under the local farm's workers").isFalse();
      try (FarmWorkersDir second = FarmWorkersDir.takeOneShotSlot(home)) {
        assertThat(second.workers()).isEqualTo(home.resolve("oneshot").resolve("2"));
      }
      try (FarmWorkersDir again = FarmWorkersDir.takeOneShotSlot(home)) {
        assertThat(again.workers()).as("slot 2 was freed").isEqualTo(home.resolve("oneshot").resolve("2"));
      }
    }
    try (FarmWorkersDir next = FarmWorkersDir.takeOneShotSlot(home)) {
      assertThat(next.workers()).as("builds one after another reuse slot 1 (its layers stay unpacked)")
          .isEqualTo(home.resolve("oneshot").resolve("1"));
    }
  }

  @Test
  void pastTheLimitOfFarmsAtOnceTheErrorNamesTheLimit() throws IOException {
    List<FarmWorkersDir> held = new ArrayList<>();
    try {
      for (int i = 0; i < FarmWorkersDir.MAX_ONE_SHOT_SLOTS; i++) {
        held.add(FarmWorkersDir.takeOneShotSlot(home));
      }
      assertThat(held).extracting(FarmWorkersDir::workers).doesNotHaveDuplicates();
      assertThatThrownBy(() -> FarmWorkersDir.takeOneShotSlot(home)).isInstanceOf(IOException.class)
          .hasMessageContaining(FarmWorkersDir.MAX_ONE_SHOT_SLOTS + " one-shot builds already run in " + home)
          .hasMessageContaining("limit");
    } finally {
      for (FarmWorkersDir slot : held) {
        slot.close();
      }
    }
  }
}
