package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.RunContext;
import dev.stagefarm.farmrun.FarmRunProtocol;
import dev.stagefarm.farmrun.FarmRunProtocol.Frame;
import dev.stagefarm.farmrun.FarmRunProtocol.Hello;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * The local farm's side of the thin client (module {@code farmrun}): a Unix-domain socket in the
 * farm's owner-only state directory, 0600, on which a {@code stagefarm build|bake} is handed over
 * with the farm's token and run here, in a fresh {@link CommandLine} with the caller's streams,
 * environment and working directory ({@link RunContext}), so that no client JVM starts. A run that
 * needs anything else (other farm settings, {@code --coordinator}, another command) is answered with
 * a fallback before it starts: the launcher then runs the JVM client as before. A wrong token or a
 * malformed frame ends that connection with a message; other runs go on.
 */
public final class LocalFarmRuns implements AutoCloseable {
  /** Runs at once; more fall back to JVM clients. */
  static final int MAX_RUNS = 16;
  /** A connection that has not sent its run request by then is closed. */
  static final long HELLO_PATIENCE_MS = 10_000;
  /** After a cancel, the command has this long to end on its own before its thread is interrupted. */
  static final long CANCEL_GRACE_MS = 3_000;
  private static final List<String> COMMANDS = List.of("build", "bake");

  private final Path socket;
  private final byte[] token;
  private final String fingerprint;
  private final Path home;
  private final SharedFarmConnection farm;
  private final PrintStream log;
  private final ServerSocketChannel server;
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "stagefarm-run-timers");
    t.setDaemon(true);
    return t;
  });
  private final SpareCommandLines spares = new SpareCommandLines();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();
  private volatile long lastEndedMs;
  private volatile boolean closed;

  private LocalFarmRuns(Path socket, String token, String fingerprint, Path home, Supplier<Farm> farm, PrintStream log,
      ServerSocketChannel server) {
    this.socket = socket;
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.fingerprint = fingerprint;
    this.home = home;
    this.farm = new SharedFarmConnection(farm);
    this.log = log;
    this.server = server;
  }

  /**
   * Listens on {@code run.sock} in the state directory (which must be owner-only: {@link
   * LocalFarmState#create}).
   *
   * @param fingerprint the farm's settings ({@link LocalFarm.Settings#fingerprint}): a run with others falls back
   * @param farm makes a connection to this farm's API: once, on the first run; the runs share it
   */
  public static LocalFarmRuns start(LocalFarmState state, String token, String fingerprint, Path home,
      Supplier<Farm> farm, PrintStream log) throws IOException {
    Path socket = state.dir().resolve(FarmRunProtocol.SOCKET);
    Files.deleteIfExists(socket); // a killed daemon's: the caller holds the daemon lock
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    // the directory is 0700 already; the socket too, so that it stays private if it is ever reached another way
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    LocalFarmRuns runs = new LocalFarmRuns(socket, token, fingerprint, home, farm, log, server);
    Thread accept = new Thread(runs::acceptLoop, "stagefarm-run-accept");
    accept.setDaemon(true);
    accept.start();
    return runs;
  }

  /** Runs in progress (the farm is not idle while one is). */
  public int inFlight() {
    return running.get();
  }

  /** When the last run ended, epoch ms (0: none yet). */
  public long lastEndedMs() {
    return lastEndedMs;
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.println(Instant.now() + " run socket: " + e.getMessage());
        }
        return;
      }
      Thread connection = new Thread(() -> serve(channel), "stagefarm-run-" + connections.incrementAndGet());
      connection.setDaemon(true);
      connection.start();
    }
  }

  private void serve(SocketChannel channel) {
    Connection connection = new Connection(channel);
    var helloTimer = timers.schedule(connection::closeQuietly, HELLO_PATIENCE_MS, TimeUnit.MILLISECONDS);
    InputStream in = Channels.newInputStream(channel);
    Hello hello;
    try {
      Frame first = FarmRunProtocol.read(in);
      if (first == null) {
        connection.closeQuietly();
        return;
      }
      if (first.type() != FarmRunProtocol.HELLO) {
        throw new FarmRunProtocol.ProtocolException("the first frame must be a run request, not type " + first.type());
      }
      hello = Hello.decode(first.body());
    } catch (IOException e) {
      connection.refuse(e instanceof FarmRunProtocol.ProtocolException ? e.getMessage()
          : "the run request was not received (" + e.getMessage() + ")");
      return;
    } finally {
      helloTimer.cancel(false);
    }
    if (hello.version() != FarmRunProtocol.VERSION) {
      connection.fallback("protocol version " + hello.version() + " (this farm speaks " + FarmRunProtocol.VERSION + ")");
      return;
    }
    if (!MessageDigest.isEqual(token, hello.token().getBytes(StandardCharsets.UTF_8))) {
      connection.refuse("wrong token (not this farm's " + LocalFarmState.TOKEN + " file)");
      return;
    }
    Path cwd;
    try {
      cwd = Path.of(hello.cwd());
    } catch (InvalidPathException e) {
      connection.refuse("the working directory is not a path: " + e.getMessage());
      return;
    }
    if (!cwd.isAbsolute()) {
      connection.refuse("the working directory \"" + hello.cwd() + "\" is not absolute");
      return;
    }
    Optional<String> declined = declines(hello);
    if (declined.isPresent()) {
      connection.fallback(declined.get());
      return;
    }
    if (running.incrementAndGet() > MAX_RUNS) {
      running.decrementAndGet();
      connection.fallback("the local farm runs " + MAX_RUNS + " commands already");
      return;
    }
    try {
      connection.run(hello, cwd, in);
    } finally {
      running.decrementAndGet();
      lastEndedMs = System.currentTimeMillis();
    }
  }

  /**
   * Why this farm does not run a command line here (the JVM client does), from what the run request
   * says without parsing the command line: another command, another farm; empty when it may run it
   * ({@link #declinesParsed} then decides on the parsed line).
   */
  private Optional<String> declines(Hello hello) {
    List<String> args = hello.args();
    if (args.isEmpty() || !COMMANDS.contains(args.get(0))) {
      return Optional.of("not a build or bake");
    }
    for (String arg : args) {
      if (arg.equals("--one-shot") || arg.equals("--coordinator") || arg.startsWith("--coordinator=")) {
        return Optional.of(arg + " does not use the local farm");
      }
    }
    String coordinator = hello.env().get("STAGEFARM_COORDINATOR");
    if (coordinator != null && !coordinator.isBlank()) {
      return Optional.of("STAGEFARM_COORDINATOR is set");
    }
    if (!FarmFlags.home(hello.env()::get).equals(home)) {
      return Optional.of("another farm home");
    }
    return Optional.empty();
  }

  /**
   * Why this farm does not run a parsed command line: settings other than this farm's; empty when it
   * runs it. Asked on the run's own parse, before anything of it runs ({@link Main#execute(RunContext,
   * java.util.function.Function, String...)}).
   */
  private Optional<String> declinesParsed(CommandLine.ParseResult parsed) {
    try {
      Optional<FarmSelection> selection =
          parsed.hasSubcommand() ? FarmSelection.of(parsed.subcommand().commandSpec()) : Optional.empty();
      if (selection.isPresent()) {
        Optional<LocalFarm.Settings> settings = selection.get().localFarmSettings();
        if (settings.isEmpty()) {
          return Optional.of("not for the local farm");
        }
        if (!settings.get().fingerprint().equals(fingerprint)) {
          return Optional.of("other settings (" + settings.get().fingerprint() + ")");
        }
      }
    } catch (RuntimeException e) {
      // a flag its settings cannot take (a malformed registry): the run reports it as the JVM client would
    }
    return Optional.empty();
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    timers.shutdownNow();
    spares.close();
    farm.close();
    try {
      Files.deleteIfExists(socket);
    } catch (IOException ignored) {
      // the next daemon deletes it before it binds
    }
  }

  /** One thin client's connection: its frames out, its standard input in, its cancel. */
  private final class Connection {
    private final SocketChannel channel;
    private final OutputStream out;
    private final ArrayBlockingQueue<byte[]> stdin = new ArrayBlockingQueue<>(1);
    private final List<Runnable> cancelActions = new ArrayList<>();
    private volatile boolean stdinWanted;
    private volatile boolean finished;
    private volatile boolean cancelled;
    private volatile Thread runThread;

    Connection(SocketChannel channel) {
      this.channel = channel;
      this.out = Channels.newOutputStream(channel);
    }

    void send(byte type, byte[] body, int offset, int length) throws IOException {
      synchronized (out) {
        FarmRunProtocol.write(out, type, body, offset, length);
      }
    }

    void refuse(String why) {
      log.println(Instant.now() + " refused a run: " + why);
      try {
        byte[] message = ("stagefarm: the local farm refused the run: " + why + "\n").getBytes(StandardCharsets.UTF_8);
        send(FarmRunProtocol.STDERR, message, 0, message.length);
        exit(dev.stagefarm.cli.ExitCodes.FARM_FAILED);
      } catch (IOException ignored) {
        // the client is gone
      }
      closeQuietly();
    }

    void fallback(String why) {
      try {
        byte[] message = why.getBytes(StandardCharsets.UTF_8);
        send(FarmRunProtocol.FALLBACK, message, 0, Math.min(message.length, FarmRunProtocol.MAX_SMALL));
      } catch (IOException ignored) {
        // the client is gone
      }
      closeQuietly();
    }

    private void exit(int code) throws IOException {
      synchronized (out) {
        FarmRunProtocol.writeInt(out, FarmRunProtocol.EXIT, code);
      }
    }

    void closeQuietly() {
      try {
        channel.close();
      } catch (IOException ignored) {
        // already closed
      }
    }

    /** Runs the command on a thread of its own while this one reads standard input and cancels. */
    void run(Hello hello, Path cwd, InputStream in) {
      PrintStream stdout = stream(FarmRunProtocol.STDOUT);
      PrintStream stderr = stream(FarmRunProtocol.STDERR);
      RunContext context = new RunContext(stdout, stderr, new RunInput(), hello.env(), cwd,
          (hello.tty() & FarmRunProtocol.TTY_STDERR) != 0, this::onCancel,
          Optional.of(settings -> settings.fingerprint().equals(fingerprint) ? Optional.of(farm.borrow()) : Optional.empty()));
      String[] args = hello.args().toArray(String[]::new);
      Thread thread = new Thread(() -> {
        try {
          runCommand(context, stdout, stderr, args);
        } finally {
          spares.prepare(args[0]); // for the next run of this command, now that this one is done
        }
      }, Thread.currentThread().getName() + "-command");
      thread.setDaemon(true);
      runThread = thread;
      thread.start();
      try {
        while (true) {
          Frame frame = FarmRunProtocol.read(in);
          if (frame == null) {
            break; // the client is gone (killed, or it closed after the exit frame)
          }
          switch (frame.type()) {
            case FarmRunProtocol.STDIN -> {
              if (!stdinWanted || !stdin.offer(frame.body())) {
                throw new FarmRunProtocol.ProtocolException("standard input that was not asked for");
              }
            }
            case FarmRunProtocol.CANCEL -> cancel("cancelled by the client");
            default -> throw new FarmRunProtocol.ProtocolException("unexpected frame type " + frame.type());
          }
        }
      } catch (IOException e) {
        if (!finished) {
          log.println(Instant.now() + " run " + Thread.currentThread().getName() + ": " + e.getMessage());
          if (e instanceof FarmRunProtocol.ProtocolException) {
            stderr.println("stagefarm: the local farm ends the run: " + e.getMessage());
          }
        }
      }
      if (!finished) {
        cancel("the client's connection closed");
      }
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** The command line on its own thread, on an unused model of it; then its exit frame (or the fallback). */
    private void runCommand(RunContext context, PrintStream stdout, PrintStream stderr, String[] args) {
      int code;
      try {
        Main.Outcome outcome = Main.execute(spares.take(args), context, LocalFarmRuns.this::declinesParsed, args);
        if (outcome instanceof Main.Outcome.Declined declined) { // nothing ran: the launcher runs the JVM client
          finished = true;
          fallback(declined.why());
          return;
        }
        code = ((Main.Outcome.Ran) outcome).exitCode();
      } catch (Throwable e) { // a command's bug must not end the farm's other runs
        stderr.println("error: " + e + "\n(internal error in the local farm; see its log)");
        e.printStackTrace(log);
        code = dev.stagefarm.cli.ExitCodes.INTERNAL;
      }
      stdout.flush();
      stderr.flush();
      finished = true;
      try {
        exit(cancelled ? 130 : code);
      } catch (IOException ignored) {
        // the client is gone
      }
      closeQuietly();
    }

    private PrintStream stream(byte type) {
      OutputStream frames = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          while (len > 0) {
            int n = Math.min(len, FarmRunProtocol.MAX_CHUNK);
            send(type, b, off, n);
            off += n;
            len -= n;
          }
        }
      };
      return new PrintStream(new BufferedOutputStream(frames, 8192), true, StandardCharsets.UTF_8);
    }

    private RunContext.Registration onCancel(Runnable action) {
      synchronized (cancelActions) {
        if (cancelled) {
          action.run();
        }
        cancelActions.add(action);
      }
      return () -> {
        synchronized (cancelActions) {
          cancelActions.remove(action);
        }
      };
    }

    /** Cancels the builds the command registered, gives it a moment to end, then interrupts it. */
    private void cancel(String why) {
      List<Runnable> actions;
      synchronized (cancelActions) {
        if (cancelled || finished) {
          return;
        }
        cancelled = true;
        actions = List.copyOf(cancelActions);
      }
      log.println(Instant.now() + " run " + Thread.currentThread().getName() + ": " + why);
      stdin.offer(new byte[0]); // a command reading standard input sees its end
      for (Runnable action : actions) {
        try {
          action.run();
        } catch (RuntimeException e) {
          log.println(Instant.now() + " cancelling: " + e.getMessage());
        }
      }
      timers.schedule(() -> {
        Thread thread = runThread;
        if (!finished && thread != null) {
          thread.interrupt();
        }
      }, CANCEL_GRACE_MS, TimeUnit.MILLISECONDS);
    }

    /** The command's standard input: asked of the client a chunk at a time, so at most one chunk is buffered. */
    private final class RunInput extends InputStream {
      private byte[] current = new byte[0];
      private int position;
      private boolean ended;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public synchronized int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        while (position == current.length) {
          if (ended || cancelled) {
            return -1;
          }
          stdinWanted = true;
          synchronized (out) {
            FarmRunProtocol.writeInt(out, FarmRunProtocol.STDIN_WANTED, FarmRunProtocol.MAX_CHUNK);
          }
          try {
            current = stdin.take();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("standard input: the run was cancelled");
          } finally {
            stdinWanted = false;
          }
          position = 0;
          if (current.length == 0) {
            ended = true;
            return -1;
          }
        }
        int n = Math.min(len, current.length - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
      }
    }
  }
}
