package dev.stagefarm.cli.farm;

import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.util.concurrent.TimeUnit;

/**
 * A farm whose coordinator runs in this JVM, reached through gRPC's in-process transport: the
 * local farm's runs of thin clients ({@link LocalFarmRuns}) call their own farm's API this way
 * instead of over TCP loopback through Netty (no sockets, no HTTP/2 framing, messages passed
 * without serialising them). The coordinator serves the same services there with the same
 * authenticator ({@code CoordinatorNode#serveAlso}), and every call carries the caller's bearer
 * token, so this channel proves no more than a network one would.
 */
final class InProcessFarm implements Farm {
  private final ManagedChannel managed;
  private final Channel channel;
  private final String name;

  private InProcessFarm(String name, ManagedChannel managed, CallCredentials credentials) {
    this.name = name;
    this.managed = managed;
    this.channel = ClientInterceptors.intercept(managed, new WithCredentials(credentials));
  }

  /**
   * @param serverName the coordinator's in-process server ({@link EmbeddedFarm#inProcessClient})
   * @param credentials sent on every call (the farm's token)
   */
  static InProcessFarm connect(String serverName, CallCredentials credentials) {
    return new InProcessFarm(serverName,
        InProcessChannelBuilder.forName(serverName).maxInboundMessageSize(64 << 20).build(), credentials);
  }

  @Override
  public Channel channel() {
    return channel;
  }

  @Override
  public String endpoint() {
    return "in-process " + name;
  }

  /** Nothing leaves the process. */
  @Override
  public boolean confidential() {
    return true;
  }

  @Override
  public boolean failover(StatusRuntimeException unavailable) {
    return false; // one coordinator, in this process
  }

  @Override
  public void close() {
    managed.shutdownNow();
    try {
      managed.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Puts the credentials on every call, as a network channel's composite credentials do. */
  private record WithCredentials(CallCredentials credentials) implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return next.newCall(method, options.withCallCredentials(credentials));
    }
  }
}
