package dev.stagefarm.coordinator.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.WorkerEvent;
import dev.stagefarm.proto.v1.StageEvent;
import org.junit.jupiter.api.Test;

class EventMessagesTest {

  private static WorkerEvent.Failed failed(StageEvent.Failed.Builder failed) {
    return (WorkerEvent.Failed) EventMessages.fromProto(StageEvent.newBuilder().setFailed(failed).build())
        .orElseThrow().kind();
  }

  @Test
  void aFailureAtADeadlineSaysSoAndOthersDoNot() {
    assertThat(failed(StageEvent.Failed.newBuilder().setMessage("ran past its deadline").setDeadline(true))
        .deadline()).isTrue();
    // an older worker's event has no such field: a RUN that failed
    assertThat(failed(StageEvent.Failed.newBuilder().setExitCode(1).setMessage("RUN false")).deadline()).isFalse();
  }
}
