package dev.stagefarm.coordinator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.StageEvent;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A watcher that cannot keep up is sent nothing while its transport is not ready, and is caught
 * up from the progress log when it is: no entries queue up for it.
 */
class ProgressStreamTest {
  /** The server side of a call whose readiness the test sets, as a slow client's would be. */
  static final class SlowCall extends ServerCallStreamObserver<BuildProgress> {
    final List<BuildProgress> sent = new ArrayList<>();
    boolean ready;
    boolean completed;
    Runnable onReady = () -> {};

    @Override public boolean isReady() { return ready; }
    @Override public void setOnReadyHandler(Runnable handler) { onReady = handler; }
    @Override public boolean isCancelled() { return false; }
    @Override public void setOnCancelHandler(Runnable handler) {}
    @Override public void setCompression(String compression) {}
    @Override public void disableAutoInboundFlowControl() {}
    @Override public void request(int count) {}
    @Override public void setMessageCompression(boolean enable) {}
    @Override public void onNext(BuildProgress value) { sent.add(value); }
    @Override public void onError(Throwable t) {}
    @Override public void onCompleted() { completed = true; }

    void becomeReady() {
      ready = true;
      onReady.run();
    }
  }

  static BuildProgress.Builder line(int i) {
    return BuildProgress.newBuilder().setLog(StageEvent.LogChunk.newBuilder().setData(ByteString.copyFromUtf8("line " + i)));
  }

  @Test
  void sendsOnlyWhileTheClientIsReadyAndCatchesUpFromTheLogWhenItIs() {
    ProgressLog log = new ProgressLog(Clock.systemUTC());
    SlowCall call = new SlowCall();
    ProgressStream stream = new ProgressStream(call, 0, log::after, Runnable::run);
    log.watch(0, stream);

    for (int i = 0; i < 500; i++) {
      log.append(line(i));
    }
    assertThat(call.sent).as("nothing is pushed to a client that is not ready").isEmpty();

    call.becomeReady();
    assertThat(call.sent).hasSize(500);
    assertThat(call.sent).extracting(BuildProgress::getSequence).isSorted().doesNotHaveDuplicates();

    call.ready = false;
    log.append(line(500));
    log.close();
    assertThat(call.sent).hasSize(500);
    assertThat(call.completed).as("not ended before the last entry is sent").isFalse();

    call.becomeReady();
    assertThat(call.sent).hasSize(501);
    assertThat(call.completed).isTrue();
  }

  @Test
  void resumesAfterTheSequenceTheClientAskedFor() {
    ProgressLog log = new ProgressLog(Clock.systemUTC());
    for (int i = 0; i < 10; i++) {
      log.append(line(i));
    }
    SlowCall call = new SlowCall();
    call.ready = true;
    ProgressStream stream = new ProgressStream(call, 7, log::after, Runnable::run);
    log.watch(7, stream);
    assertThat(call.sent).extracting(BuildProgress::getSequence).containsExactly(8L, 9L, 10L);
  }
}
