package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.EmbeddedFarmSupport;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.cli.farm.LocalFarm;
import dev.stagefarm.cli.farm.LocalFarmState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stagefarm farm}: the local background farm that {@code stagefarm build} starts and reuses. */
@Command(
    name = "farm",
    mixinStandardHelpOptions = true,
    description = "The local background farm that 'stagefarm build' starts on first use and reuses.",
    subcommands = {FarmCommand.Status.class, FarmCommand.Stop.class, FarmCommand.Serve.class})
public final class FarmCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /** Exit code of {@code farm status} when no farm runs (as {@code systemctl status}). */
  public static final int NOT_RUNNING = 3;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  static LocalFarm localFarm() {
    return new LocalFarm(LocalFarmState.forHome(FarmFlags.home()));
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Whether the local farm runs; its address, pid, settings and unfinished builds (exit 3: not running).")
  static final class Status implements Callable<Integer> {
    @Override
    public Integer call() {
      LocalFarm farm = localFarm();
      Optional<LocalFarmState.Running> running = farm.running();
      if (running.isEmpty()) {
        System.out.println("not running (state " + farm.state().dir() + ")");
        return NOT_RUNNING;
      }
      LocalFarmState.Running r = running.get();
      long upSeconds = Math.max(0, (System.currentTimeMillis() - r.startedMs()) / 1000);
      System.out.println("running: pid " + r.pid() + ", 127.0.0.1:" + r.port() + ", up " + Duration.ofSeconds(upSeconds)
          .toString().substring(2).toLowerCase() + ", stops after " + r.idleTimeout().toString().substring(2).toLowerCase()
          + " without builds");
      System.out.println("  settings: " + r.settings());
      System.out.println("  unfinished builds: " + farm.unfinishedBuilds(r));
      System.out.println("  state: " + farm.state().dir() + " (log " + farm.state().log() + ")");
      return 0;
    }
  }

  @Command(name = "stop", mixinStandardHelpOptions = true,
      description = "Stop the local farm (its unfinished builds end with it).")
  static final class Stop implements Callable<Integer> {
    @Override
    public Integer call() throws InterruptedException {
      System.out.println(localFarm().stop() ? "stopped" : "not running");
      return 0;
    }
  }

  /** The daemon itself, started by {@code stagefarm build}; not for people. */
  @Command(name = "serve", hidden = true, description = "Run the local farm in this process (started by build).")
  static final class Serve implements Callable<Integer> {
    @Option(names = "--home", required = true)
    Path home;

    @Option(names = "--workers")
    int workers = LocalFarm.DEFAULT_WORKERS;

    @Option(names = "--idle-timeout", converter = DurationConverter.class)
    Duration idleTimeout = LocalFarm.DEFAULT_IDLE_TIMEOUT;

    @Option(names = "--settings")
    String settings = "";

    @Mixin FarmFlags farmFlags;

    @Override
    public Integer call() throws Exception {
      return EmbeddedFarmSupport.require("the local farm").serveLocalFarm(home, workers, farmFlags.registrySettings(),
          idleTimeout, settings, System.out);
    }
  }
}
