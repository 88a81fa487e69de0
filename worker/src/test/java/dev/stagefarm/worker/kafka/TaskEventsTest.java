package dev.stagefarm.worker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailure;
import java.time.Clock;
import org.junit.jupiter.api.Test;

class TaskEventsTest {
  private final TaskEvents events = new TaskEvents(StageTask.getDefaultInstance(), "worker-1", Clock.systemUTC());

  @Test
  void aStageKilledAtItsDeadlineFailsWithTheDeadlineFlagAndIsNotRetried() {
    StageEvent.Failed failed = events.failed(StageFailure.deadline(2, "stage build ran past its deadline")).getFailed();
    assertThat(failed.getDeadline()).isTrue();
    assertThat(failed.getRetriable()).isFalse();
    assertThat(failed.getInstructionIndex()).isEqualTo(2);
  }

  @Test
  void aRunThatFailsIsNoDeadline() {
    assertThat(events.failed(new StageFailure(0, 3, 1, "RUN false", "", false)).getFailed().getDeadline()).isFalse();
    assertThat(events.failed(StageFailure.build(0, 3, "COPY: no such file")).getFailed().getDeadline()).isFalse();
  }
}
