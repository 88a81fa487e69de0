package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class StageUploadsTest {
  /**
   * A stage that fails closes its uploads while an earlier op's cache record may be on its way:
   * interrupting that PUT lost the record of an op that succeeded (and logged an exception at the
   * user of a local farm); the writes not started yet are still dropped.
   */
  @Test
  void closeLetsTheWriteInProgressFinishAndDropsTheWritesNotStarted() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean firstFinished = new AtomicBoolean();
    AtomicBoolean secondRan = new AtomicBoolean();
    StageUploads uploads = new StageUploads();
    uploads.submit(() -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new InterruptedIOException("interrupted");
      }
      firstFinished.set(true);
    });
    uploads.submit(() -> secondRan.set(true));
    started.await();

    Thread closer = Thread.ofPlatform().start(uploads::close);
    while (closer.getState() != Thread.State.TIMED_WAITING && closer.isAlive()) {
      Thread.onSpinWait(); // close() is waiting for the write in progress
    }
    release.countDown();
    closer.join();

    assertThat(firstFinished).isTrue();
    assertThat(secondRan).isFalse();
  }
}
