package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The background farm on this machine that {@code stagefarm build} uses without
 * {@code --coordinator}: the first build starts it as a detached process ({@code stagefarm farm
 * serve}), later builds reuse it, and it stops itself after an idle timeout (as Gradle's and
 * BuildKit's daemons). It listens on loopback only and requires a random bearer token that only
 * this user can read ({@link LocalFarmState}). A daemon that died is detected by its lock and
 * replaced; one running with other settings (workers, registries, another CLI build) is replaced
 * when it has no unfinished builds.
 */
public final class LocalFarm {
  /** What starting a local farm is, in the thin client's error (EmbeddedFarmSupport#require). */
  static final String STARTING = "the local background farm (a build without --coordinator)";

  /**
   * The local farm's single-slot workers unless a build says otherwise: as many stages at once as
   * bench/fanout32 has (BuildKit runs a fan-out's stages all at once, without a limit). An idle slot
   * waits on the in-process bus and costs a parked thread (bench/README.md, "Session 9").
   */
  public static final int DEFAULT_WORKERS = 32;
  /** The default idle timeout: long enough to span a working session, short enough not to linger. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
  private static final Duration START_PATIENCE = Duration.ofMinutes(3);
  private static final Duration STOP_PATIENCE = Duration.ofSeconds(60);
  /** Two first builds in one JVM: file locks are per process, so threads queue here first. */
  private static final ReentrantLock IN_PROCESS = new ReentrantLock();

  /**
   * What the daemon runs with; a daemon with other settings is replaced.
   *
   * @param registryFlags the {@code --insecure-registry}/{@code --registry-mirror} flags, in order
   */
  public record Settings(Path home, int workers, List<String> registryFlags, Duration idleTimeout) {
    public Settings {
      registryFlags = List.copyOf(registryFlags);
    }

    /** Everything that must match for a running daemon to be reused (not the idle timeout). */
    public String fingerprint() {
      return "workers=" + workers + " registry=" + String.join(" ", registryFlags) + " cli=" + cliVersion();
    }
  }

  private final LocalFarmState state;

  public LocalFarm(LocalFarmState state) {
    this.state = state;
  }

  public LocalFarmState state() {
    return state;
  }

  /** Connects to the running daemon, starting (or replacing) it first when needed. */
  public Farm connect(Settings settings, PrintStream err) throws IOException, InterruptedException {
    LocalFarmState.Running running = ensureRunning(settings, err);
    return RemoteFarm.connect("127.0.0.1:" + running.port(), ApiClientFlags.withTokenFile(state.token()));
  }

  LocalFarmState.Running ensureRunning(Settings settings, PrintStream err) throws IOException, InterruptedException {
    state.create();
    IN_PROCESS.lockInterruptibly();
    try (FileChannel startLock = FileChannel.open(state.dir().resolve(LocalFarmState.START_LOCK),
            StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = startLock.lock()) {
      LocalFarmState.touchClient(startLock);
      Optional<LocalFarmState.Running> running = state.read();
      boolean alive = state.daemonAlive();
      if (alive && running.isPresent() && running.get().settings().equals(settings.fingerprint())) {
        return running.get();
      }
      if (alive && running.isPresent()) {
        int unfinished = unfinishedBuilds(running.get());
        if (unfinished > 0) {
          throw new UserError("the local farm (pid " + running.get().pid() + ") runs with other settings ("
              + running.get().settings() + ") and has " + unfinished + " unfinished build(s): wait for them, run"
              + " 'stagefarm farm stop', or build with the same flags");
        }
        err.println("stagefarm: restarting the local farm with other settings (" + settings.fingerprint() + ")");
        stop(running.get());
      } else if (alive) {
        // a daemon that has not written its state yet (or is stopping) without holding the start lock: its
        // starter died; wait for it to finish either way
        awaitDaemonGone(Duration.ofSeconds(30));
      }
      state.clear(); // a killed daemon's state and token are stale
      return start(settings, err);
    } finally {
      IN_PROCESS.unlock();
    }
  }

  private LocalFarmState.Running start(Settings settings, PrintStream err) throws IOException, InterruptedException {
    // the daemon runs this JVM's class path: the thin client distribution can use a running one, not start one
    EmbeddedFarmSupport.require(STARTING);
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      command.add("/usr/bin/setsid"); // its own session: Ctrl-C in the terminal of the first build does not reach it
    }
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    if (Runtime.version().feature() >= 24) {
      command.add("--sun-misc-unsafe-memory-access=allow");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "farm", "serve",
        "--home", settings.home().toString(), "--workers", Integer.toString(settings.workers()),
        "--idle-timeout", settings.idleTimeout().toMillis() + "ms", "--settings", settings.fingerprint()));
    command.addAll(settings.registryFlags());
    err.println("stagefarm: starting the local farm (" + settings.workers() + " workers; log " + state.log() + ")");
    Process daemon = new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(state.log().toFile()))
        .start();
    long deadline = System.nanoTime() + START_PATIENCE.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<LocalFarmState.Running> running = state.read();
      if (running.isPresent()) {
        return running.get();
      }
      if (!daemon.isAlive() && !state.daemonAlive()) {
        // (one that exits because another farm serves here waits for that one's state)
        throw new UserError("the local farm did not start (exit " + daemon.exitValue() + "): " + lastLines(state.log()));
      }
      Thread.sleep(100);
    }
    daemon.destroy();
    throw new UserError("the local farm did not start within " + START_PATIENCE.toMinutes() + " minutes; see "
        + state.log());
  }

  /** The running daemon, if one is alive. */
  public Optional<LocalFarmState.Running> running() {
    Optional<LocalFarmState.Running> running = state.read();
    return running.isPresent() && state.daemonAlive() ? running : Optional.empty();
  }

  /** Stops the running daemon; false when none was running. */
  public boolean stop() throws InterruptedException {
    Optional<LocalFarmState.Running> running = running();
    if (running.isEmpty()) {
      return false;
    }
    stop(running.get());
    return true;
  }

  private void stop(LocalFarmState.Running running) throws InterruptedException {
    // the lock is held, so the pid is the daemon's and not a reused one
    ProcessHandle.of(running.pid()).ifPresent(ProcessHandle::destroy);
    if (!awaitDaemonGone(STOP_PATIENCE)) {
      ProcessHandle.of(running.pid()).ifPresent(ProcessHandle::destroyForcibly);
      if (!awaitDaemonGone(Duration.ofSeconds(10))) {
        throw new UserError("the local farm (pid " + running.pid() + ") does not stop");
      }
    }
  }

  private boolean awaitDaemonGone(Duration patience) throws InterruptedException {
    long deadline = System.nanoTime() + patience.toNanos();
    while (state.daemonAlive()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  /** The daemon's builds that are not finished (asked over its API, with its token). */
  public int unfinishedBuilds(LocalFarmState.Running running) {
    RemoteFarm farm = RemoteFarm.connect("127.0.0.1:" + running.port(), ApiClientFlags.withTokenFile(state.token()));
    try {
      List<BuildStatus> builds = BuildServiceGrpc.newBlockingStub(farm.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
          .listBuilds(ListBuildsRequest.newBuilder().setPageSize(1000).build()).getBuildsList();
      return (int) builds.stream().filter(b -> !dev.stagefarm.cli.build.BuildClient.isFinalState(b)).count();
    } catch (StatusRuntimeException e) {
      return 0; // not answering: nothing it runs can be saved by waiting
    } finally {
      farm.close();
    }
  }

  /** Identifies the CLI build: a daemon started by an older build of the CLI is replaced. */
  static String cliVersion() {
    try {
      Path jar = Path.of(LocalFarm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return jar.getFileName() + "@" + Files.getLastModifiedTime(jar).toMillis();
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static String lastLines(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "see " + log;
    }
  }
}
