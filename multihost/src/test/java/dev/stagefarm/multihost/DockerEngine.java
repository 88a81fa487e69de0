package dev.stagefarm.multihost;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The private Docker engine of this suite, once per test run: {@code scripts/multihost.sh start}
 * starts a dockerd and loads the images that {@code deploy/images/build.sh} builds with stagefarm
 * itself (none is pulled); {@code stop} ends it when the run is over. Testcontainers is pointed at
 * it through DOCKER_HOST (set by the Maven build to where this starts it), with the engine's API version (1.41: Debian's
 * dockerd 20.10 refuses the 1.44 Testcontainers asks for by default).
 */
public final class DockerEngine implements BeforeAllCallback {
  private static final String KEY = DockerEngine.class.getName();

  /** The repository root (where {@code stagefarm}, {@code scripts/} and {@code deploy/} are). */
  public static Path root() {
    return Path.of(System.getProperty("stagefarm.root", "..")).toAbsolutePath().normalize();
  }

  /** The engine's address, {@code unix:///…/docker.sock}; valid once the extension ran. */
  public static String host() {
    return System.getProperty("DOCKER_HOST");
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL).getOrComputeIfAbsent(KEY, k -> start(), Running.class);
  }

  private static Running start() {
    Path dir = engineDir();
    Running running = new Running(dir);
    try {
      String socket = run(List.of(root().resolve("scripts/multihost.sh").toString(), "start", dir.toString()), dir.resolve("start.log"));
      if (!socket.equals(System.getenv("DOCKER_HOST"))) {
        throw new IllegalStateException("the engine listens on " + socket + " but DOCKER_HOST is " + System.getenv("DOCKER_HOST"));
      }
      System.setProperty("DOCKER_HOST", socket);
      System.setProperty("api.version", "1.41");
      return running;
    } catch (RuntimeException e) {
      running.close();
      throw e;
    }
  }

  /** Where the Maven build told Testcontainers (DOCKER_HOST) the engine's socket is. */
  private static Path engineDir() {
    try {
      Path dir = Path.of(System.getProperty("stagefarm.multihost.dir", "target/multihost")).toAbsolutePath();
      if (dir.resolve("docker.sock").toString().length() > 100) {
        throw new IllegalStateException("the engine's socket path " + dir.resolve("docker.sock") + " is too long for a unix"
            + " socket: run with -Dstagefarm.multihost.dir=/tmp/stagefarm-multihost");
      }
      Files.createDirectories(dir);
      return dir;
    } catch (IOException e) {
      throw new IllegalStateException("cannot make the engine directory: " + e.getMessage(), e);
    }
  }

  /** Runs a command with its output to {@code log}; returns its last output line. */
  static String run(List<String> command, Path log) {
    try {
      Process process = new ProcessBuilder(command).directory(root().toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      if (!process.waitFor(60, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 minutes; see " + log);
      }
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed (exit " + process.exitValue() + "):\n"
            + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
      }
      return lines.isEmpty() ? "" : lines.get(lines.size() - 1).trim();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private record Running(Path dir) implements AutoCloseable { // closed by JUnit at the end of the run
    @Override
    public void close() {
      run(List.of(root().resolve("scripts/multihost.sh").toString(), "stop", dir.toString()), dir.resolve("stop.log"));
    }
  }
}
