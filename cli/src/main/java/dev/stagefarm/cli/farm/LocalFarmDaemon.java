package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.Observability;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.ops.Traces;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.grpc.auth.Caller;
import dev.stagefarm.coordinator.grpc.auth.TokenTable;
import dev.stagefarm.oci.registry.RegistrySettings;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.worker.HeldLock;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The background farm's process ({@code stagefarm farm serve}, started by {@link LocalFarm}): the
 * embedded farm without a broker (its coordinator and workers on the in-process bus) on a loopback
 * port behind a fresh random token, until it has been idle for its
 * timeout or is told to stop (SIGTERM from {@code stagefarm farm stop}). Part of the embedded farm,
 * reached through {@link EmbeddedFarmSupport#serveLocalFarm}.
 */
public final class LocalFarmDaemon {
  /** At most this many unfinished builds at once (all callers share the one local identity). */
  private static final int MAX_UNFINISHED_BUILDS = 256;

  private LocalFarmDaemon() {}

  /** Serves until idle or stopped; returns the exit code. */
  public static int serve(Path home, int workers, RegistrySettings registry, Duration idleTimeout, String settings,
      PrintStream out) throws Exception {
    LocalFarmState state = LocalFarmState.forHome(home);
    state.create();
    // held for the process's life (the kernel frees it at exit); empty: another daemon holds it (in this JVM too).
    // Taken here, not in LocalFarmState: the thin client reads that class and has no worker module
    Optional<HeldLock> lock =
        HeldLock.tryHold(state.dir().resolve(LocalFarmState.LOCK), HeldLock.thisProcess("the local farm")).lock();
    if (lock.isEmpty()) {
      out.println(Instant.now() + " another local farm already serves " + state.dir() + "; exiting");
      return 0;
    }
    LocalFarmState.daemonHoldsLock(state.dir().resolve(LocalFarmState.LOCK), true);
    long pid = ProcessHandle.current().pid();
    out.println(Instant.now() + " local farm starting (pid " + pid + ", " + workers + " workers, idle timeout "
        + idleTimeout + ")");
    String token = newToken();
    state.writeToken(token);
    ApiSecurity security = new ApiSecurity(Optional.empty(),
        Optional.of(TokenTable.parse(TokenTable.entryLine(token, new Caller("local", Caller.Role.ADMIN)))), Set.of(),
        MAX_UNFINISHED_BUILDS);
    // the broker data of a local farm of an earlier release (which ran a Kafka broker): never read again
    deleteTree(state.dir().resolve("kafka"));
    EmbeddedFarm farm;
    // the local farm reads no server keys: the standard OTEL_* variables turn its traces on
    Traces traces = Observability.tracesFromEnvironment(System.getenv());
    try {
      // no broker: no other process's worker or coordinator joins this farm, so the coordinator and the workers
      // share the in-process bus; idle slots wait on it without polling (docs/architecture.md, "Embedded farm")
      farm = EmbeddedFarm.startWithoutBroker(new EmbeddedFarm.Options(home, null, workers, registry,
          EmbeddedFarm.ONE_MACHINE_KAFKA, BuildCoordinator.Settings.DEFAULT, 0, FarmTracing.workers(traces),
          InetAddress.getLoopbackAddress(), security));
      FarmTracing.coordinator(farm.coordinator(), traces);
    } catch (Exception e) {
      traces.close();
      state.clear();
      throw new UserError("starting the local farm failed: " + e.getMessage(), e);
    }
    int port = farm.coordinator().port();
    LocalFarmRuns runs;
    try {
      // the thin client's socket, before the state that tells clients the farm serves
      runs = LocalFarmRuns.start(state, token, settings, home,
          // the runs are in this JVM: the coordinator's in-process server, with the farm's token as over TCP
          () -> farm.inProcessClient(ApiClientFlags.withTokenFile(state.token())), out);
    } catch (IOException e) {
      farm.close();
      state.clear();
      throw new UserError("starting the local farm's run socket failed: " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable shutdown = () -> {
      runs.close();
      try {
        state.clear(); // first: no new client connects to a farm on its way down
      } catch (IOException ignored) {
        // the lock, released on exit, still tells clients
      }
      farm.close();
      traces.close();
      stopped.countDown();
    };
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      shutdown.run();
      out.println(Instant.now() + " local farm stopped");
    }, "stagefarm-local-farm-stop"));
    state.write(new LocalFarmState.Running(pid, port, settings, System.currentTimeMillis(), idleTimeout));
    out.println(Instant.now() + " local farm serving on 127.0.0.1:" + port);
    out.flush();

    BuildCoordinator coordinator = farm.coordinator().coordinator();
    long lastActivity = System.currentTimeMillis();
    long checkEvery = Math.max(200, Math.min(5_000, idleTimeout.toMillis() / 4));
    while (!stopped.await(checkEvery, TimeUnit.MILLISECONDS)) {
      // busy while a client is connected (uploading, watching) or a build is unfinished
      lastActivity = Math.max(lastActivity, farm.activity().inFlight() > 0 || runs.inFlight() > 0
          ? System.currentTimeMillis() : Math.max(farm.activity().lastMs(), runs.lastEndedMs()));
      for (BuildStatus build : coordinator.list()) {
        lastActivity = Math.max(lastActivity, BuildClient.isFinalState(build)
            ? Math.max(build.getCreatedMs(), build.getFinishedMs()) : System.currentTimeMillis());
      }
      if (System.currentTimeMillis() - lastActivity >= idleTimeout.toMillis()) {
        // decided under the clients' start lock: a client that has just read the state touched the lock file
        // first (LocalFarm), and none reads it once it is cleared here
        try (FileChannel startLock = FileChannel.open(state.dir().resolve(LocalFarmState.START_LOCK),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            var held = startLock.lock()) {
          lastActivity = Math.max(lastActivity, state.lastClient());
          if (System.currentTimeMillis() - lastActivity >= idleTimeout.toMillis() && farm.activity().inFlight() == 0 && runs.inFlight() == 0) {
            out.println(Instant.now() + " idle for " + idleTimeout + ": stopping");
            out.flush();
            state.clear();
            return 0; // System.exit runs the shutdown hook
          }
        }
      }
    }
    return 0;
  }

  private static String newToken() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | java.io.UncheckedIOException ignored) {
      // an old broker directory left behind is harmless
    }
  }
}
