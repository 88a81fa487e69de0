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

  @Test
  void aCompletionWithoutAStartSaysHowLongTheStageRanAndAnAnnouncedOneDoesNot() {
    dev.stagefarm.proto.v1.ImageState base = dev.stagefarm.proto.v1.ImageState.newBuilder().setOrigin("o").build();
    WorkerEvent.Completed alone = (WorkerEvent.Completed) EventMessages.fromProto(StageEvent.newBuilder()
        .setTimestampMs(10_040).setDeliveryCount(2)
        .setCompleted(StageEvent.Completed.newBuilder().setResult(base).setStartedMs(10_000)).build()).orElseThrow().kind();
    assertThat(alone.unannounced()).isTrue();
    assertThat(alone.unannouncedRunMs()).isEqualTo(40);
    assertThat(alone.deliveryCount()).isEqualTo(2);
    // a worker clock that stepped back between the two readings: a run of 0 ms, not a negative one
    WorkerEvent.Completed skewed = (WorkerEvent.Completed) EventMessages.fromProto(StageEvent.newBuilder()
        .setTimestampMs(9_990)
        .setCompleted(StageEvent.Completed.newBuilder().setResult(base).setStartedMs(10_000)).build()).orElseThrow().kind();
    assertThat(skewed.unannouncedRunMs()).isZero();
    // a completion after a started event (and every older worker's) carries no start
    WorkerEvent.Completed announced = (WorkerEvent.Completed) EventMessages.fromProto(StageEvent.newBuilder()
        .setTimestampMs(10_040).setCompleted(StageEvent.Completed.newBuilder().setResult(base)).build())
        .orElseThrow().kind();
    assertThat(announced.unannounced()).isFalse();
  }
}
