package dev.stagefarm.coordinator.progress;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageStatus;
import java.time.Clock;
import org.junit.jupiter.api.Test;

class ProgressLogTest {
  static BuildProgress.Builder log(int bytes) {
    return BuildProgress.newBuilder().setLogStageId("0")
        .setLog(StageEvent.LogChunk.newBuilder().setData(ByteString.copyFrom(new byte[bytes])));
  }

  @Test
  void outputPastTheByteLimitIsDroppedAfterOneTruncationMarkerButStatesAreKept() {
    ProgressLog progress = new ProgressLog(Clock.systemUTC(), new ProgressLog.Limits(1000, 10_000));
    for (int i = 0; i < 100; i++) {
      progress.append(log(1000));
    }
    progress.append(BuildProgress.newBuilder().setStage(StageStatus.newBuilder().setStageId("0")));
    progress.append(BuildProgress.newBuilder().setBuild(BuildStatus.newBuilder().setState(BuildState.SUCCEEDED)));

    assertThat(progress.bytes()).isLessThanOrEqualTo(10_000 + 1000);
    assertThat(progress.truncated()).isTrue();
    var entries = progress.entries();
    assertThat(entries).filteredOn(p -> p.getLog().getData().toStringUtf8().contains("output truncated"))
        .singleElement()
        .satisfies(p -> assertThat(p.getLog().getData().toStringUtf8()).contains("progress-max-bytes"));
    assertThat(entries.get(entries.size() - 2).hasStage()).isTrue();
    assertThat(entries.getLast().getBuild().getState()).isEqualTo(BuildState.SUCCEEDED);
    assertThat(entries).extracting(BuildProgress::getSequence).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void outputPastTheEntryLimitIsDropped() {
    ProgressLog progress = new ProgressLog(Clock.systemUTC(), new ProgressLog.Limits(10, 1 << 20));
    for (int i = 0; i < 1000; i++) {
      progress.append(log(1));
    }
    assertThat(progress.entries()).hasSize(11); // ten, then the marker
    assertThat(progress.entries().getLast().getLog().getData().toStringUtf8()).contains("output truncated");
  }

  @Test
  void afterReadsABatchFollowingTheSequence() {
    ProgressLog progress = new ProgressLog(Clock.systemUTC());
    for (int i = 0; i < 10; i++) {
      progress.append(log(1));
    }
    assertThat(progress.after(3, 4)).extracting(BuildProgress::getSequence).containsExactly(4L, 5L, 6L, 7L);
    assertThat(progress.after(9, 4)).extracting(BuildProgress::getSequence).containsExactly(10L);
    assertThat(progress.after(10, 4)).isEmpty();
    assertThat(progress.after(99, 4)).isEmpty();
  }
}
