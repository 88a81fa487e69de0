package dev.stagefarm.cli.farm;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import java.util.function.Supplier;

/**
 * The one connection to the local farm's API that every thin-client run shares ({@link
 * LocalFarmRuns}): a run used to open its own (an event loop thread, a TCP connection and an HTTP/2
 * handshake per build, and their teardown) for a few calls over loopback; the daemon now makes it
 * on the coordinator's in-process server ({@link InProcessFarm}). Made on the first run,
 * closed with the run socket; a run's {@code close} leaves it open. Every run carries the same
 * credentials (the farm's own token), so sharing the channel gives no run anything another's has.
 */
final class SharedFarmConnection implements AutoCloseable {
  private final Supplier<Farm> connect;
  private Farm farm;
  private boolean closed;

  /** @param connect makes the connection (once) */
  SharedFarmConnection(Supplier<Farm> connect) {
    this.connect = connect;
  }

  /** The shared connection, for one run: closing it does not close the connection. */
  synchronized Farm borrow() {
    if (closed) {
      throw new IllegalStateException("the local farm's run socket is closed");
    }
    if (farm == null) {
      farm = connect.get();
    }
    return new Borrowed(farm);
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (farm != null) {
      farm.close();
      farm = null;
    }
  }

  /** One run's view of the shared connection. */
  private record Borrowed(Farm shared) implements Farm {
    @Override
    public Channel channel() {
      return shared.channel();
    }

    @Override
    public String endpoint() {
      return shared.endpoint();
    }

    @Override
    public boolean confidential() {
      return shared.confidential();
    }

    @Override
    public boolean failover(StatusRuntimeException unavailable) {
      return shared.failover(unavailable);
    }

    @Override
    public void close() {
      // the connection outlives the run: LocalFarmRuns closes it with the socket
    }
  }
}
