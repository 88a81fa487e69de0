package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;

/** A coordinator elsewhere, reached over gRPC (plaintext). */
public final class RemoteFarm implements Farm {
  private final ManagedChannel channel;
  private final String endpoint;

  private RemoteFarm(ManagedChannel channel, String endpoint) {
    this.channel = channel;
    this.endpoint = endpoint;
  }

  /** @param hostPort {@code HOST:PORT} */
  public static RemoteFarm connect(String hostPort) {
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
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(hostPort.substring(0, colon), port)
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build();
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
