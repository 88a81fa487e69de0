package dev.stagefarm.worker.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay to a local port that can be stalled: while stalled, bytes are accepted but not passed
 * on (a broker that stops answering without closing its connections, as a broker starved of CPU
 * does), so clients' requests wait out their own timeouts.
 */
final class StallingProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Object gate = new Object();
  private volatile boolean stalled;

  StallingProxy(int target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon().name("proxy-accept").start(this::accept);
  }

  int port() {
    return server.getLocalPort();
  }

  void stall(boolean stall) {
    synchronized (gate) {
      stalled = stall;
      gate.notifyAll();
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target));
        sockets.add(client);
        sockets.add(upstream);
        Thread.ofPlatform().daemon().start(() -> relay(client, upstream));
        Thread.ofPlatform().daemon().start(() -> relay(upstream, client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void relay(Socket from, Socket to) {
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        synchronized (gate) {
          while (stalled) {
            gate.wait();
          }
        }
        out.write(buffer, 0, n);
      }
    } catch (IOException | InterruptedException e) {
      // the other side went away, or the proxy closed
    } finally {
      close(from);
      close(to);
    }
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() throws IOException {
    stall(false);
    server.close();
    sockets.forEach(StallingProxy::close);
  }
}
