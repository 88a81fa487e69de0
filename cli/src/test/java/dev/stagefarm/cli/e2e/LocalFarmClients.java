package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.farm.LocalFarm;
import dev.stagefarm.cli.farm.LocalFarmState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One test's local background farm, driven through real client processes as a user runs them
 * (each with its own JVM), for {@link LocalFarmEndToEndTest} and {@link FastPathEndToEndTest}: the
 * farm home is under the test's own directory, so every test starts from no farm and stops its own
 * ({@link #stop}, in the test's {@code @AfterEach}); each process's output goes to files there.
 */
final class LocalFarmClients {
  private final Supplier<Path> dir;
  private final Map<Process, String> outputs = new HashMap<>();

  /** @param dir the test's temporary directory (read when used: JUnit injects it after construction) */
  LocalFarmClients(Supplier<Path> dir) {
    this.dir = dir;
  }

  /** A finished client process: its exit code and what it wrote. */
  record Run(int exitCode, String stdout, String stderr) {
    /** Both streams, standard output first. */
    String output() {
      return stdout + stderr;
    }
  }

  Path home() {
    return dir.get().resolve("home");
  }

  LocalFarmState state() {
    return LocalFarmState.forHome(home());
  }

  /** Stops the farm the test's clients started (a no-op when none runs). */
  void stop() throws Exception {
    new LocalFarm(state()).stop();
  }

  /** The JVM client, as the launcher starts it without a farm (it starts the farm), running in {@code cwd}. */
  Process startJvmClient(Path cwd, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED", "-cp",
        System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    return start(command, cwd, Map.of());
  }

  Run jvmClient(Path cwd, String... args) throws Exception {
    return finish(startJvmClient(cwd, args));
  }

  /** Starts {@code command} in {@code cwd} with this test's farm home and {@code env}. */
  Process start(List<String> command, Path cwd, Map<String, String> env) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile());
    builder.environment().put("STAGEFARM_HOME", home().toString());
    builder.environment().putAll(env);
    String name = "p" + System.nanoTime();
    builder.redirectOutput(dir.get().resolve(name + ".out").toFile())
        .redirectError(dir.get().resolve(name + ".err").toFile());
    Process process = builder.start();
    outputs.put(process, name);
    return process;
  }

  /** Where the process writes its standard error (to read it while it runs). */
  Path stderrOf(Process process) {
    return dir.get().resolve(outputs.get(process) + ".err");
  }

  Run finish(Process process) throws Exception {
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
    String name = outputs.get(process);
    Run run = new Run(process.exitValue(), Files.readString(dir.get().resolve(name + ".out")),
        Files.readString(dir.get().resolve(name + ".err")));
    System.err.println("--- " + process.info().commandLine().orElse("?") + " → " + run.exitCode() + "\n"
        + run.stdout() + run.stderr());
    return run;
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A build context {@code name} under the test's directory: {@code a.txt} and the Dockerfile. */
  Path context(String name, String dockerfile) throws Exception {
    Path ctx = Files.createDirectories(dir.get().resolve(name));
    Files.writeString(ctx.resolve("a.txt"), "hello " + name + "\n");
    Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
    return ctx;
  }

  /** Whether the process has exited within {@code patience} (it may not be reaped yet when its lock is free). */
  static boolean exited(long pid, Duration patience) throws Exception {
    var handle = ProcessHandle.of(pid);
    if (handle.isPresent()) {
      try {
        handle.get().onExit().get(patience.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        return false;
      }
    }
    return true;
  }
}
