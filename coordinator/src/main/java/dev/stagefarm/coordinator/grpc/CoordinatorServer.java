package dev.stagefarm.coordinator.grpc;

import io.grpc.HandlerRegistry;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Binds the BuildService to a server; the caller chooses the transport (netty, in-process). */
public final class CoordinatorServer implements AutoCloseable {
  private final Server server;

  public CoordinatorServer(ServerBuilder<?> builder, BuildServiceImpl service) {
    this.server = builder.addService(service).maxInboundMessageSize(64 << 20).build();
  }

  /**
   * A server whose services come from {@code services}, which may change while it runs (a
   * coordinator swaps its standby service for the active one when elected).
   */
  public CoordinatorServer(ServerBuilder<?> builder, HandlerRegistry services) {
    this.server = builder.fallbackHandlerRegistry(services).maxInboundMessageSize(64 << 20).build();
  }

  public CoordinatorServer start() throws IOException {
    server.start();
    return this;
  }

  /** The bound port (for network transports), or -1. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
  }
}
