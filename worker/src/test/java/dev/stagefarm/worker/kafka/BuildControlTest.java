package dev.stagefarm.worker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.v1.ControlMessage;
import dev.stagefarm.proto.v1.StageTask;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The memory of control messages that the workers of one farm in one process share. */
class BuildControlTest {
  private final FarmKeys keys = FarmKeys.generate();
  private final String transport = "test-" + UUID.randomUUID();

  @Test
  void workersOfOneFarmShareOneMemoryOfEndedBuilds() {
    BuildControl first = BuildControl.share(new BuildControl.Farm(transport, keys));
    BuildControl second = BuildControl.share(new BuildControl.Farm(transport, keys));
    try {
      assertThat(second).isSameAs(first);
      first.apply(ended("b1"));
      assertThat(second.check(task("b1", 1))).hasValueSatisfying(v -> assertThat(v.reason()).contains("b1 ended"));
    } finally {
      first.release();
      second.release();
    }
  }

  @Test
  void anotherFarmOrOtherKeysGetAMemoryOfTheirOwn() {
    BuildControl mine = BuildControl.share(new BuildControl.Farm(transport, keys));
    BuildControl otherKeys = BuildControl.share(new BuildControl.Farm(transport, FarmKeys.generate()));
    BuildControl otherFarm = BuildControl.share(new BuildControl.Farm(transport + "-other", keys));
    try {
      assertThat(otherKeys).isNotSameAs(mine);
      assertThat(otherFarm).isNotSameAs(mine);
      mine.apply(ended("b1"));
      assertThat(otherKeys.check(task("b1", 1))).isEmpty();
      assertThat(otherFarm.check(task("b1", 1))).isEmpty();
    } finally {
      mine.release();
      otherKeys.release();
      otherFarm.release();
    }
  }

  @Test
  void theLastWorkerToLetGoForgetsItAndTheNextStartsAfresh() {
    BuildControl.Farm farm = new BuildControl.Farm(transport, keys);
    BuildControl first = BuildControl.share(farm);
    BuildControl second = BuildControl.share(farm);
    first.apply(ended("b1"));
    first.release();
    BuildControl third = BuildControl.share(farm);
    assertThat(third).as("still held by the second worker").isSameAs(second);
    third.release();
    second.release();

    BuildControl later = BuildControl.share(farm);
    try {
      assertThat(later).isNotSameAs(first);
      assertThat(later.check(task("b1", 1))).isEmpty();
    } finally {
      later.release();
    }
  }

  @Test
  void aSupersededAttemptIsRefusedAndTheCurrentOneRuns() {
    BuildControl control = BuildControl.share(new BuildControl.Farm(transport, keys));
    try {
      control.apply(ControlMessage.newBuilder().setBuildId("b2")
          .setAttemptIssued(ControlMessage.AttemptIssued.newBuilder().setStageId("s").setAttempt(2)).build());
      assertThat(control.check(task("b2", 1))).hasValueSatisfying(
          v -> assertThat(v.reason()).isEqualTo("attempt 1 of stage s was superseded by attempt 2"));
      assertThat(control.check(task("b2", 2))).isEmpty();
    } finally {
      control.release();
    }
  }

  private static ControlMessage ended(String build) {
    return ControlMessage.newBuilder().setBuildId(build)
        .setBuildEnded(ControlMessage.BuildEnded.newBuilder().setReason("cancelled")).build();
  }

  private static StageTask task(String build, int attempt) {
    return StageTask.newBuilder().setBuildId(build).setStageId("s").setAttempt(attempt).build();
  }
}
