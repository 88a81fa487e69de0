package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.progress.ProgressLog;
import dev.stagefarm.proto.v1.BuildProgress;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One WatchBuild stream that honours gRPC flow control: it sends only while the transport is
 * ready ({@link ServerCallStreamObserver#isReady()}) and resumes from its on-ready handler, pulling
 * entries from the build's (bounded) progress log after the last one it sent. Nothing is queued
 * per watcher, so a slow client costs no memory beyond the log itself.
 *
 * <p>New entries only signal it; sending happens in one drain loop at a time on {@code executor},
 * never under the progress log's lock.
 */
final class ProgressStream implements ProgressLog.Watcher {
  /** Reads up to {@code max} entries after a sequence number. */
  @FunctionalInterface
  interface Source {
    List<BuildProgress> after(long afterSequence, int max);
  }

  private static final int BATCH = 64;

  private final ServerCallStreamObserver<BuildProgress> call;
  private final Source source;
  private final Executor executor;
  private final AtomicInteger signals = new AtomicInteger();
  private long sent;
  /** An entry outside any log (the final status of an evicted build), sent once. */
  private volatile BuildProgress unlogged;
  private volatile boolean ended;
  private boolean completed;

  ProgressStream(ServerCallStreamObserver<BuildProgress> call, long afterSequence, Source source, Executor executor) {
    this.call = call;
    this.sent = afterSequence;
    this.source = source;
    this.executor = executor;
    call.setOnReadyHandler(this::signal);
  }

  void onCancel(Runnable handler) {
    call.setOnCancelHandler(handler);
  }

  /** An entry was appended; it is read from the log when the client can take it. */
  @Override
  public void next(BuildProgress progress) {
    if (progress.getSequence() == 0) {
      unlogged = progress;
    }
    signal();
  }

  @Override
  public void end() {
    ended = true;
    signal();
  }

  private void signal() {
    if (signals.getAndIncrement() == 0) {
      executor.execute(this::drain);
    }
  }

  private void drain() {
    int missed = 1;
    do {
      sendWhileReady();
      missed = signals.addAndGet(-missed);
    } while (missed != 0);
  }

  private void sendWhileReady() {
    while (!completed && !call.isCancelled() && call.isReady()) {
      boolean endedBefore = ended; // read first: every entry is in the log before end() is called
      List<BuildProgress> batch = source.after(sent, BATCH);
      if (batch.isEmpty()) {
        BuildProgress lone = unlogged;
        if (lone != null) {
          unlogged = null;
          call.onNext(lone);
          continue;
        }
        if (endedBefore) {
          completed = true;
          call.onCompleted();
        }
        return;
      }
      for (BuildProgress progress : batch) {
        call.onNext(progress);
        sent = progress.getSequence();
      }
    }
  }
}
