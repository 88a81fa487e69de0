package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.coordinator.grpc.StandbyService;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Coordinators elsewhere, reached over gRPC (TLS and credentials from {@link ApiClientFlags}): one, or the coordinators of a farm in HA
 * ({@code --coordinator a:7070,b:7070}). Calls go to the one believed active; after UNAVAILABLE the
 * client follows the leader a standby names, else tries the next address.
 */
public final class RemoteFarm implements Farm {
  private final List<String> addresses;
  private final ApiClientFlags security;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  /**
   * The channels' one I/O thread, ours to stop at close: gRPC's shared event loop outlives its
   * channels by a second, and a thread left waiting in native code (epoll) holds the JVM's exit
   * up by 300 ms (HotSpot waits that long for threads in native before it exits anyway).
   */
  private io.grpc.netty.shaded.io.netty.channel.EventLoopGroup eventLoop;
  /** The event loop's thread (one), joined at close. */
  private final java.util.List<Thread> ioThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
  private String current;

  private RemoteFarm(List<String> addresses, ApiClientFlags security) {
    this.addresses = List.copyOf(addresses);
    this.security = security;
    this.current = addresses.get(0);
  }

  /** @param hostPorts {@code HOST:PORT}, or several separated by commas */
  public static RemoteFarm connect(String hostPorts) {
    return connect(hostPorts, new ApiClientFlags());
  }

  /**
   * @param hostPorts {@code HOST:PORT}, or several separated by commas
   * @param security TLS and credentials for every address
   */
  public static RemoteFarm connect(String hostPorts, ApiClientFlags security) {
    List<String> addresses = new ArrayList<>();
    for (String address : hostPorts.split(",")) {
      addresses.add(validated(address.trim()));
    }
    // checked before any call: a token to a remote host without TLS is refused here, naming the flag
    for (String address : addresses) {
      security.settings(address.substring(0, address.lastIndexOf(':')));
    }
    return new RemoteFarm(addresses, security);
  }

  private static String validated(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw ExitCodes.usage("--coordinator wants HOST:PORT[,HOST:PORT…], got \"" + hostPort + "\"");
    }
    try {
      Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw ExitCodes.usage("--coordinator wants HOST:PORT[,HOST:PORT…], got \"" + hostPort + "\"");
    }
    return hostPort;
  }

  /**
   * Netty logs through JDK logging in a client: its default, SLF4J, would start Logback, whose
   * configuration (an XML parser and ~600 classes) is a third of a warm build's client CPU; Netty
   * says nothing a client's user needs below WARNING, which JDK logging prints as well.
   */
  private static void quietNettyLogging() {
    io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
        io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
  }

  @Override
  public synchronized Channel channel() {
    if (channels.isEmpty()) {
      quietNettyLogging();
    }
    return channels.computeIfAbsent(current, address -> {
      int colon = address.lastIndexOf(':');
      String host = address.substring(0, colon);
      ApiClientFlags.Settings settings = security.settings(host);
      if (eventLoop == null) {
        java.util.concurrent.ThreadFactory named =
            new io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory("stagefarm-client-io", true);
        eventLoop = new io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup(1, task -> {
              Thread thread = named.newThread(task);
              ioThreads.add(thread);
              return thread;
            }, io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler.newFactory());
      }
      NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host, Integer.parseInt(address.substring(colon + 1)),
          settings.credentials()).maxInboundMessageSize(64 << 20).eventLoopGroup(eventLoop)
          .channelType(io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel.class);
      settings.serverName().ifPresent(builder::overrideAuthority);
      return builder.build();
    });
  }

  @Override
  public synchronized String endpoint() {
    return current;
  }

  @Override
  public synchronized boolean confidential() {
    return security.confidential(current.substring(0, current.lastIndexOf(':')));
  }

  @Override
  public synchronized boolean failover(StatusRuntimeException unavailable) {
    if (unavailable.getStatus().getCode() != Status.Code.UNAVAILABLE) {
      return false;
    }
    String leader = unavailable.getTrailers() == null ? null : unavailable.getTrailers().get(StandbyService.LEADER_ADDRESS);
    if (leader != null && !leader.equals(current)) {
      current = validated(leader);
      return true;
    }
    if (addresses.size() > 1) {
      current = addresses.get((addresses.indexOf(current) + 1) % addresses.size());
      return true;
    }
    return false;
  }

  @Override
  public synchronized void close() {
    // the client closes after its last call: nothing to drain, and a graceful shutdown held the exit up;
    // the transports' termination is not awaited, the I/O thread's end is
    for (ManagedChannel channel : channels.values()) {
      channel.shutdownNow();
    }
    if (eventLoop != null) {
      try {
        // no quiet period: the calls are over; its thread leaves native code within milliseconds
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(1, TimeUnit.SECONDS);
        // the group's termination is signalled from inside its thread, just before that thread ends: wait for
        // the end itself, so that no thread of ours is left in native code when the JVM exits
        for (Thread thread : ioThreads) {
          thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
