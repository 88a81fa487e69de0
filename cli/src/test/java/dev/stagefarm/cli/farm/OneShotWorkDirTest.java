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
class OneShotWorkDirTest {
  @TempDir Path home;

  @Test
  void farmsRunningAtOnceGetSlotsOfTheirOwnAndAFreedSlotIsTakenAgain() throws IOException {
    try (OneShotWorkDir first = OneShotWorkDir.take(home)) {
      assertThat(first.workers()).isEqualTo(home.resolve("oneshot").resolve("1"));
      assertThat(first.workers().startsWith(home.resolve("workers"))).as("under the local farm's workers").isFalse();
      try (OneShotWorkDir second = OneShotWorkDir.take(home)) {
        assertThat(second.workers()).isEqualTo(home.resolve("oneshot").resolve("2"));
      }
      try (OneShotWorkDir again = OneShotWorkDir.take(home)) {
        assertThat(again.workers()).as("slot 2 was freed").isEqualTo(home.resolve("oneshot").resolve("2"));
      }
    }
    try (OneShotWorkDir next = OneShotWorkDir.take(home)) {
      assertThat(next.workers()).as("builds one after another reuse slot 1 (its layers stay unpacked)")
          .isEqualTo(home.resolve("oneshot").resolve("1"));
    }
  }

  @Test
  void pastTheLimitOfFarmsAtOnceTheErrorNamesTheLimit() throws IOException {
    List<OneShotWorkDir> held = new ArrayList<>();
    try {
      for (int i = 0; i < OneShotWorkDir.MAX_SLOTS; i++) {
        held.add(OneShotWorkDir.take(home));
      }
      assertThat(held).extracting(OneShotWorkDir::workers).doesNotHaveDuplicates();
      assertThatThrownBy(() -> OneShotWorkDir.take(home)).isInstanceOf(IOException.class)
          .hasMessageContaining(OneShotWorkDir.MAX_SLOTS + " one-shot builds already run in " + home)
          .hasMessageContaining("limit");
    } finally {
      for (OneShotWorkDir slot : held) {
        slot.close();
      }
    }
  }
}
