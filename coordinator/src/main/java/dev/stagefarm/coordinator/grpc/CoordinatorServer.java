package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import io.grpc.HandlerRegistry;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Binds the BuildService to a server behind the authenticator of its {@link ApiSecurity}; the
 * caller chooses the transport (netty, in-process) and its credentials (TLS).
 */
public final class CoordinatorServer implements AutoCloseable {
  private final Server server;

  /** Without authentication: every caller is the anonymous admin (loopback and in-process farms). */
  public CoordinatorServer(ServerBuilder<?> builder, BuildServiceImpl service) {
    this(builder, service, ApiSecurity.open());
  }

  public CoordinatorServer(ServerBuilder<?> builder, BuildServiceImpl service, ApiSecurity security) {
    this.server = builder
        .addService(ServerInterceptors.intercept(service, security.authenticator()))
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  /**
   * A server whose services come from {@code services}, which may change while it runs (a
   * coordinator swaps its standby service for the active one when elected).
   */
  public CoordinatorServer(ServerBuilder<?> builder, HandlerRegistry services) {
    this.server = builder.fallbackHandlerRegistry(services).maxInboundMessageSize(64 << 20).build();
  }

  /**
   * As {@link #CoordinatorServer(ServerBuilder, HandlerRegistry)}, every call authenticated first
   * by {@code security} (the standby's redirects too: they name the leader's address).
   */
  public CoordinatorServer(ServerBuilder<?> builder, HandlerRegistry services, ApiSecurity security) {
    this.server = builder.fallbackHandlerRegistry(services).intercept(security.authenticator())
        .maxInboundMessageSize(64 << 20).build();
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
