package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;

/** A coordinator elsewhere, reached over gRPC (TLS and credentials from {@link ApiClientFlags}). */
public final class RemoteFarm implements Farm {
  private final ManagedChannel channel;
  private final String endpoint;

  private RemoteFarm(ManagedChannel channel, String endpoint) {
    this.channel = channel;
    this.endpoint = endpoint;
  }

  /** Plaintext, without credentials. @param hostPort {@code HOST:PORT} */
  public static RemoteFarm connect(String hostPort) {
    return connect(hostPort, new ApiClientFlags());
  }

  /** @param hostPort {@code HOST:PORT} */
  public static RemoteFarm connect(String hostPort, ApiClientFlags security) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new UserError("--coordinator wants HOST:PORT, got \"" + hostPort + "\"");
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new UserError("--coordinator wants HOST:PORT, got \"" + hostPort + "\"");
    }
    String host = hostPort.substring(0, colon);
    ApiClientFlags.Settings settings = security.settings(host);
    NettyChannelBuilder builder =
        NettyChannelBuilder.forAddress(host, port, settings.credentials()).maxInboundMessageSize(64 << 20);
    settings.serverName().ifPresent(builder::overrideAuthority);
    ManagedChannel channel = builder.build();
    return new RemoteFarm(channel, hostPort);
  }

  @Override
  public Channel channel() {
    return channel;
  }

  @Override
  public String endpoint() {
    return endpoint;
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
