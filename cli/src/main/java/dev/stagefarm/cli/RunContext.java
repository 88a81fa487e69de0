package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.Farm;
import dev.stagefarm.cli.farm.LocalFarm;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What one run of a client command sees of its caller: standard streams, environment, working
 * directory, whether stderr is a terminal, and how it is cancelled. A CLI process has one ({@link
 * #process()}); the local farm makes one per command a thin client hands it ({@code
 * LocalFarmRuns}), so the client code of {@code build} and {@code bake} reads these values, never
 * {@code System.out}, {@code System.getenv} or a relative {@code Path.of}: one run must not see
 * another's output, environment or credentials.
 *
 * @param localFarm in the local farm: the farm itself for a run with its settings (empty: other
 *     settings); absent in a CLI process, which finds or starts the farm
 */
public record RunContext(PrintStream out, PrintStream err, InputStream in, Map<String, String> env, Path cwd,
    boolean tty, Cancellation cancellation, Optional<Function<LocalFarm.Settings, Optional<Farm>>> localFarm) {

  public RunContext {
    env = Map.copyOf(env);
  }

  /** Runs {@code action} when the run is cancelled (Ctrl-C) until the returned handle is closed. */
  public interface Cancellation {
    Registration onCancel(Runnable action);
  }

  /** A registered cancel action; closing it removes it. */
  public interface Registration extends AutoCloseable {
    @Override
    void close();
  }

  /** Ctrl-C or SIGTERM of this process: a shutdown hook. */
  public static final Cancellation SHUTDOWN_HOOK = action -> {
    Thread hook = new Thread(action, "stagefarm-cancel");
    Runtime.getRuntime().addShutdownHook(hook);
    return () -> {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: the action runs
      }
    };
  };

  /**
   * This process's own streams, environment and working directory (the empty path: relative paths
   * stay as the user wrote them, in messages too).
   */
  public static RunContext process() {
    return new RunContext(System.out, System.err, System.in, System.getenv(), Path.of(""),
        System.console() != null, SHUTDOWN_HOOK, Optional.empty());
  }

  /** An environment variable of the run, or null. */
  public String env(String name) {
    return env.get(name);
  }

  /** A path the caller gave: relative to the caller's working directory. */
  public Path path(String path) {
    return cwd.resolve(path);
  }

  public Path path(Path path) {
    return path == null ? null : cwd.resolve(path);
  }

  /** Whether live (terminal) progress fits: stderr is a terminal and not under CI. */
  public boolean liveProgress() {
    return tty && env("CI") == null;
  }
}
