package dev.stagefarm.farmrun;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The thin client ({@code java -jar stagefarm-run.jar STATE_DIR TTY ARGS…}, run by the {@code
 * stagefarm} launcher): hands the command line, working directory, environment and standard input
 * to the local farm whose state directory is {@code STATE_DIR} and relays its output and exit code.
 * Ctrl-C or SIGTERM sends a cancel and waits for the farm's exit code. Exits {@link
 * FarmRunProtocol#FALLBACK_EXIT} without output when the farm is not there or declines the run (the
 * launcher then starts the JVM client). Only the JDK's classes: its start-up is the JVM's own.
 */
public final class FarmRunClient {
  /** How long a cancelled run may take to report its end before the client gives up on it. */
  private static final long CANCEL_PATIENCE_MS = 30_000;

  private final OutputStream toFarm;
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile boolean exiting;

  private FarmRunClient(OutputStream toFarm) {
    this.toFarm = toFarm;
  }

  public static void main(String[] argv) {
    if (argv.length < 2) {
      System.err.println("usage: FarmRunClient STATE_DIR TTY_FLAGS ARGS…");
      System.exit(2);
    }
    Path state = Path.of(argv[0]);
    int tty = Integer.parseInt(argv[1]);
    List<String> args = Arrays.asList(argv).subList(2, argv.length);
    SocketChannel channel;
    byte[] hello;
    try {
      String token = Files.readString(state.resolve("token"), StandardCharsets.UTF_8).strip();
      hello = new FarmRunProtocol.Hello(FarmRunProtocol.VERSION, token, System.getProperty("user.dir"), tty, args,
          System.getenv()).encode();
      if (hello.length > FarmRunProtocol.MAX_HELLO) {
        exit(FarmRunProtocol.FALLBACK_EXIT, null); // the JVM client takes any command line
      }
      channel = SocketChannel.open(UnixDomainSocketAddress.of(state.resolve(FarmRunProtocol.SOCKET)));
    } catch (IOException | RuntimeException e) {
      // no farm, a farm on its way down, an older farm without the socket: the JVM client does what it always did
      exit(FarmRunProtocol.FALLBACK_EXIT, null);
      return;
    }
    FarmRunClient client = new FarmRunClient(Channels.newOutputStream(channel));
    Thread cancelHook = new Thread(client::cancel, "stagefarm-run-cancel");
    Runtime.getRuntime().addShutdownHook(cancelHook);
    exit(client.run(Channels.newInputStream(channel), hello), cancelHook);
  }

  /**
   * Ends the JVM with {@code code}. {@link Runtime#halt}, not {@link System#exit}: since JDK 21 an exit is
   * logged through {@link System.Logger}, and looking up a logging backend for it (service loader, the
   * module image) took ~8 ms of an interpreted client's exit, ~7 % of a warm build through the local
   * farm (bench/README.md, "Session 12 (issue 12): the warm path's margin"). Nothing here needs what
   * halt skips: the output streams are unbuffered, and the one shutdown hook is this client's cancel,
   * which is removed first. While a signal's shutdown is under way (the hook is cancelling the run),
   * {@link System#exit} as before: it waits for that shutdown, which exits with the signal's status.
   */
  private static void exit(int code, Thread cancelHook) {
    if (cancelHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(cancelHook);
      } catch (IllegalStateException shuttingDown) {
        System.exit(code);
      }
    }
    Runtime.getRuntime().halt(code);
  }

  private int run(InputStream fromFarm, byte[] hello) {
    OutputStream stdout = new FileOutputStream(FileDescriptor.out);
    OutputStream stderr = new FileOutputStream(FileDescriptor.err);
    InputStream stdin = new FileInputStream(FileDescriptor.in);
    boolean wrote = false;
    try {
      send(FarmRunProtocol.HELLO, hello, hello.length);
      while (true) {
        FarmRunProtocol.Frame frame = FarmRunProtocol.read(fromFarm);
        if (frame == null) {
          if (!wrote) {
            return FarmRunProtocol.FALLBACK_EXIT; // closed before answering: the farm is stopping
          }
          stderr.write("stagefarm: the local farm closed the connection before the command ended\n"
              .getBytes(StandardCharsets.UTF_8));
          return 3;
        }
        switch (frame.type()) {
          case FarmRunProtocol.STDOUT -> {
            stdout.write(frame.body());
            wrote = true;
          }
          case FarmRunProtocol.STDERR -> {
            stderr.write(frame.body());
            wrote = true;
          }
          case FarmRunProtocol.STDIN_WANTED -> {
            byte[] chunk = new byte[Math.min(Math.max(frame.intBody(), 1), FarmRunProtocol.MAX_CHUNK)];
            int n = exiting ? -1 : stdin.read(chunk);
            send(FarmRunProtocol.STDIN, chunk, Math.max(n, 0)); // empty: end of input
          }
          case FarmRunProtocol.EXIT -> {
            return frame.intBody();
          }
          case FarmRunProtocol.FALLBACK -> {
            return FarmRunProtocol.FALLBACK_EXIT;
          }
          default -> throw new FarmRunProtocol.ProtocolException("unexpected frame type " + frame.type());
        }
      }
    } catch (IOException e) {
      try {
        stderr.write(("stagefarm: the local farm's connection failed: " + e.getMessage() + "\n")
            .getBytes(StandardCharsets.UTF_8));
      } catch (IOException ignored) {
        // stderr is gone too
      }
      return 3;
    } finally {
      ended.countDown();
    }
  }

  private synchronized void send(byte type, byte[] body, int length) throws IOException {
    FarmRunProtocol.write(toFarm, type, body, 0, length);
  }

  /** Ctrl-C, SIGTERM: the farm cancels the run; its last output and exit are awaited (the JVM exits 130/143). */
  private void cancel() {
    if (ended.getCount() == 0) {
      return;
    }
    exiting = true;
    try {
      send(FarmRunProtocol.CANCEL, new byte[0], 0);
      ended.await(CANCEL_PATIENCE_MS, TimeUnit.MILLISECONDS);
    } catch (IOException e) {
      // the connection is gone: its end cancels the run on the farm as well
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
