package dev.stagefarm.coordinator.grpc;

import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.proto.v1.ExportChunk;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What an export writes, sent as {@link ExportChunk} messages of a bounded size, at the pace the client reads them:
 * a chunk is handed to gRPC only while the call is ready ({@link ServerCallStreamObserver#isReady()}), so an export
 * holds at most one chunk of its own and {@link #QUEUED_CHUNKS} in the transport, however large the image and
 * however slow (or stalled) the client. Without this, {@code onNext} queued every chunk in memory: a client that
 * asked for a 5 GB image and read nothing held 5 GB of the coordinator's heap.
 *
 * <p>The export runs on an executor of its own ({@link #start}), not in the call's handler: gRPC delivers a call's
 * callbacks one at a time, so the on-ready and on-cancel handlers that wake a waiting export could not run while
 * the handler itself waited. A client that takes nothing for the stall limit fails the export, naming the limit; a
 * cancelled call (the client went away) ends it quietly.
 */
final class ExportChunkStream extends OutputStream {
  /** What an export writes into the stream. */
  @FunctionalInterface
  interface Export {
    void writeTo(OutputStream out) throws IOException;
  }

  /** The call ended from the client's side (cancelled, deadline, connection lost): nobody to report to. */
  static final class ClientGone extends IOException {
    ClientGone() {
      super("the client cancelled the export");
    }
  }

  /** How many chunks may wait in the transport: the export keeps writing while the client's side drains them. */
  static final int QUEUED_CHUNKS = 2;

  private final ServerCallStreamObserver<ExportChunk> call;
  private final int size;
  private final Duration stallLimit;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** The chunk being filled; handed to its message whole (not copied), then a new one. */
  private byte[] buffer;
  private int filled;

  private ExportChunkStream(ServerCallStreamObserver<ExportChunk> call, int size, Duration stallLimit) {
    this.call = call;
    this.size = size;
    this.stallLimit = stallLimit;
  }

  /**
   * Runs {@code export} on {@code executor} into a stream of this kind, then completes the call, or fails it with
   * what {@code failure} makes of the exception (nothing when the client went away). Must be called in the call's
   * handler, where its handlers may still be set.
   *
   * @param response the ExportImage call's observer (a {@link ServerCallStreamObserver}, as gRPC hands every call)
   * @param size a chunk's size
   * @param stallLimit how long the client may take no data before the export fails
   */
  static void start(StreamObserver<ExportChunk> response, int size, Duration stallLimit, Executor executor,
      Export export, java.util.function.Function<Exception, io.grpc.StatusException> failure) {
    ServerCallStreamObserver<ExportChunk> call = (ServerCallStreamObserver<ExportChunk>) response;
    ExportChunkStream stream = new ExportChunkStream(call, size, stallLimit);
    call.setOnReadyThreshold(QUEUED_CHUNKS * size);
    call.setOnReadyHandler(stream::signal);
    call.setOnCancelHandler(stream::signal); // and onNext no longer throws gRPC's exception once cancelled
    executor.execute(() -> {
      try (stream) {
        export.writeTo(stream);
      } catch (ClientGone e) {
        return;
      } catch (IOException | RuntimeException e) {
        if (!call.isCancelled()) {
          call.onError(failure.apply(e));
        }
        return;
      }
      call.onCompleted();
    });
  }

  @Override
  public void write(int b) throws IOException {
    if (buffer != null && filled == buffer.length) {
      flush();
    }
    if (buffer == null) {
      buffer = new byte[size];
    }
    buffer[filled++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      if (buffer == null) {
        buffer = new byte[size];
      } else if (filled == buffer.length) {
        flush();
        continue;
      }
      int n = Math.min(len, buffer.length - filled);
      System.arraycopy(b, off, buffer, filled, n);
      filled += n;
      off += n;
      len -= n;
    }
  }

  /**
   * Sends the chunk once the client can take it. Its array goes into the message as it is ({@code unsafeWrap}: one
   * copy of every exported byte less): this stream never writes to it again.
   */
  @Override
  public void flush() throws IOException {
    if (filled > 0) {
      awaitReady();
      byte[] full = buffer;
      int length = filled;
      buffer = null;
      filled = 0;
      call.onNext(ExportChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(full, 0, length)).build());
    }
  }

  @Override
  public void close() throws IOException {
    flush();
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void awaitReady() throws IOException {
    long left = stallLimit.toNanos();
    lock.lock();
    try {
      while (true) {
        if (call.isCancelled()) {
          throw new ClientGone();
        }
        if (call.isReady()) {
          return;
        }
        if (left <= 0) {
          throw new IOException("the client took no export data for " + describe(stallLimit)
              + " (the export's stall limit)");
        }
        left = changed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("the export was interrupted (the coordinator is stopping)");
    } finally {
      lock.unlock();
    }
  }

  private static String describe(Duration limit) {
    return limit.toSeconds() >= 60 && limit.toSecondsPart() == 0 ? limit.toMinutes() + " min"
        : limit.toMillis() + " ms";
  }
}
