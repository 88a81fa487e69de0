package dev.stagefarm.multihost;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The stagefarm CLI (cli/target/stagefarm.jar) as a client on the host, run as a process: what a
 * user runs against a farm. Its plain progress is read as it comes ({@code #N [stage] running on ID}).
 */
final class CliBuild implements AutoCloseable {
  private static final Pattern RUNNING_ON = Pattern.compile("^(?:#\\d+ )?\\[([^]]+)] running on (\\S+)");

  private final Process process;
  private final List<String> lines = new ArrayList<>();
  private final Thread reader;

  private CliBuild(List<String> args) throws IOException {
    Path jar = DockerEngine.root().resolve("cli/target/stagefarm.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build the CLI first (./mvnw package -pl cli -am)");
    }
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
        "-jar", jar.toString()));
    command.addAll(args);
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    reader = Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          synchronized (lines) {
            lines.add(line);
            lines.notifyAll();
          }
        }
      } catch (IOException ignored) {
        // the process ended
      }
    });
  }

  /** Starts {@code stagefarm ARGS…}. */
  static CliBuild start(String... args) throws IOException {
    return new CliBuild(List.of(args));
  }

  /** Runs {@code stagefarm ARGS…} to its end; fails with its output unless it exits 0. */
  static String run(String... args) throws IOException, InterruptedException {
    try (CliBuild cli = start(args)) {
      int exit = cli.waitFor(Duration.ofMinutes(5));
      if (exit != 0) {
        throw new AssertionError("stagefarm " + String.join(" ", args) + " exited " + exit + ":\n" + cli.output());
      }
      return cli.output();
    }
  }

  /** Waits until a line of output matches; fails (with the output) after {@code timeout}. */
  String awaitLine(Predicate<String> matching, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lines) {
      int seen = 0;
      while (true) {
        for (; seen < lines.size(); seen++) {
          if (matching.test(lines.get(seen))) {
            return lines.get(seen);
          }
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0 || (!process.isAlive() && seen == lines.size() && !reader.isAlive())) {
          throw new AssertionError("no such line after " + timeout.toSeconds() + " s; output so far:\n" + output());
        }
        lines.wait(Math.min(left, 500));
      }
    }
  }

  /** Waits for the first {@code [stage] running on WORKER} line; returns {stage, worker}. */
  String[] awaitRunning(Duration timeout) throws InterruptedException {
    Matcher m = RUNNING_ON.matcher(awaitLine(l -> RUNNING_ON.matcher(l).find(), timeout));
    m.find();
    return new String[] {m.group(1), m.group(2)};
  }

  /** The process's exit code, once it ended within {@code timeout} (else it is killed and this fails). */
  int waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the client did not finish in " + timeout.toSeconds() + " s; output:\n" + output());
    }
    reader.join(10_000);
    return process.exitValue();
  }

  /** Every worker id a stage was reported running on, in order of first appearance. */
  Set<String> workersUsed() {
    Set<String> workers = new LinkedHashSet<>();
    synchronized (lines) {
      for (String line : lines) {
        Matcher m = RUNNING_ON.matcher(line);
        if (m.find()) {
          workers.add(m.group(2));
        }
      }
    }
    return workers;
  }

  /** The workers that ran {@code stage}, in order. */
  List<String> workersOf(String stage) {
    List<String> workers = new ArrayList<>();
    synchronized (lines) {
      for (String line : lines) {
        Matcher m = RUNNING_ON.matcher(line);
        if (m.find() && m.group(1).equals(stage)) {
          workers.add(m.group(2));
        }
      }
    }
    return workers;
  }

  String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
