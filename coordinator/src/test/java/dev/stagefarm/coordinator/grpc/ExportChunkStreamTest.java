package dev.stagefarm.coordinator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.ExportChunk;
import dev.stagefarm.proto.v1.ExportImageRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An export sends at the pace its client reads, over real gRPC transports (in-process and TCP): a client that stops
 * reading holds the exporter back instead of the server queueing the whole image in memory; a client that goes
 * away ends the export; a client that takes nothing for the stall limit fails it, naming the limit.
 */
class ExportChunkStreamTest {
  static final int CHUNK = 64 * 1024;
  static final int CHUNKS = 512; // 32 MiB: far more than any transport window

  /** An ExportImage that writes CHUNKS chunks of a known pattern through ExportChunkStream. */
  static final class PatternExport extends BuildServiceGrpc.BuildServiceImplBase {
    final Duration stallLimit;
    final AtomicLong written = new AtomicLong();
    final CompletableFuture<Throwable> ended = new CompletableFuture<>(); // null: written to its end
    final java.util.concurrent.ExecutorService exports = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
    volatile Thread exporter;

    PatternExport(Duration stallLimit) {
      this.stallLimit = stallLimit;
    }

    @Override
    public void exportImage(ExportImageRequest request, StreamObserver<ExportChunk> response) {
      ExportChunkStream.start(response, CHUNK, stallLimit, exports, out -> {
        exporter = Thread.currentThread();
        byte[] piece = new byte[CHUNK / 4];
        try {
          for (long i = 0; i < (long) CHUNKS * 4; i++) {
            java.util.Arrays.fill(piece, (byte) i);
            out.write(piece);
            written.addAndGet(piece.length);
          }
          out.flush();
        } catch (IOException e) {
          ended.complete(e);
          throw e;
        }
        ended.complete(null);
      }, e -> Status.UNAVAILABLE.withDescription(e.getMessage()).asException());
    }
  }

  /** A client that asks for one message at first, then for more only when told. */
  static final class SlowReader implements ClientResponseObserver<ExportImageRequest, ExportChunk> {
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final CompletableFuture<Status> closed = new CompletableFuture<>();
    volatile ClientCallStreamObserver<ExportImageRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<ExportImageRequest> requestStream) {
      call = requestStream;
      requestStream.disableAutoRequestWithInitial(1);
    }

    @Override
    public synchronized void onNext(ExportChunk chunk) {
      received.writeBytes(chunk.getData().toByteArray());
    }

    @Override
    public void onError(Throwable t) {
      closed.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      closed.complete(Status.OK);
    }
  }

  Server server;
  ManagedChannel channel;

  @AfterEach
  void close() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  SlowReader start(String transport, PatternExport service) throws IOException {
    if (transport.equals("tcp")) {
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
      channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    } else {
      String name = "export-" + UUID.randomUUID();
      server = InProcessServerBuilder.forName(name).addService(service).build().start();
      channel = InProcessChannelBuilder.forName(name).build();
    }
    SlowReader reader = new SlowReader();
    BuildServiceGrpc.newStub(channel).exportImage(ExportImageRequest.newBuilder().setBuildId("b").build(), reader);
    return reader;
  }

  /** Waits until the exporter is parked waiting for the client (or has ended: the assertion after says which). */
  static void awaitHeldBack(PatternExport service) throws InterruptedException {
    for (int i = 0; i < 1000 && !service.ended.isDone(); i++) {
      Thread t = service.exporter;
      if (t != null && t.getState() == Thread.State.TIMED_WAITING && isAwaitingReady(t)) {
        return;
      }
      Thread.sleep(10);
    }
  }

  private static boolean isAwaitingReady(Thread t) {
    for (StackTraceElement frame : t.getStackTrace()) {
      if (frame.getClassName().equals(ExportChunkStream.class.getName()) && frame.getMethodName().equals("awaitReady")) {
        return true;
      }
    }
    return false;
  }

  @ParameterizedTest
  @ValueSource(strings = {"in-process", "tcp"})
  void aClientThatStopsReadingHoldsTheExportBackAndGetsEveryByteWhenItReadsAgain(String transport) throws Exception {
    PatternExport service = new PatternExport(Duration.ofMinutes(1));
    SlowReader reader = start(transport, service);

    awaitHeldBack(service);
    assertThat(service.ended).as("the export ran to its end while the client read one chunk").isNotDone();
    // in-process: what the client asked for, plus the chunk in hand; TCP: the HTTP/2 window and socket buffers
    assertThat(service.written.get()).isLessThan((long) CHUNKS * CHUNK / 2);

    reader.call.request(Integer.MAX_VALUE);
    assertThat(reader.closed.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
    assertThat(service.ended.get(5, TimeUnit.SECONDS)).isNull();
    byte[] bytes = reader.received.toByteArray();
    assertThat(bytes).hasSize(CHUNKS * CHUNK);
    for (int i = 0; i < bytes.length; i += CHUNK / 4) {
      assertThat(bytes[i]).as("piece %d", i / (CHUNK / 4)).isEqualTo((byte) (i / (CHUNK / 4)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"in-process", "tcp"})
  void aClientThatGoesAwayEndsTheExport(String transport) throws Exception {
    PatternExport service = new PatternExport(Duration.ofMinutes(1));
    SlowReader reader = start(transport, service);
    awaitHeldBack(service);
    assertThat(service.ended).isNotDone();

    reader.call.cancel("the user pressed Ctrl-C", null);
    assertThat(service.ended.get(30, TimeUnit.SECONDS)).isInstanceOf(ExportChunkStream.ClientGone.class);
  }

  @Test
  void aClientThatTakesNothingForTheStallLimitFailsTheExportNamingTheLimit() throws Exception {
    PatternExport service = new PatternExport(Duration.ofMillis(300));
    start("in-process", service);

    assertThat(service.ended.get(30, TimeUnit.SECONDS))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(ExportChunkStream.ClientGone.class)
        .hasMessage("the client took no export data for 300 ms (the export's stall limit)");
    assertThat(service.written.get()).isLessThan((long) CHUNKS * CHUNK / 2);
  }

  @Test
  void anExportStoppedByTheCoordinatorEndsInsteadOfWaiting() throws Exception {
    PatternExport service = new PatternExport(Duration.ofMinutes(1));
    start("in-process", service);
    awaitHeldBack(service);
    AtomicReference<Thread> exporter = new AtomicReference<>(service.exporter);

    exporter.get().interrupt();
    assertThat(service.ended.get(30, TimeUnit.SECONDS)).isInstanceOf(java.io.InterruptedIOException.class);
  }
}
