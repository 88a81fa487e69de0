package dev.stagefarm.worker.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * runc, with this worker's own state root so that {@link #deleteAll()} only ever touches our
 * containers. A container runs in the foreground: runc's stdout/stderr are the process's.
 */
public final class Runc {

  /** Receives a container's output as it comes. Called from two threads (stdout, stderr). */
  @FunctionalInterface
  public interface OutputSink {
    void write(byte[] buffer, int length, boolean stderr);
  }

  private final String binary;
  private final Path stateRoot;

  public Runc(String binary, Path stateRoot) {
    this.binary = binary;
    this.stateRoot = stateRoot;
  }

  /**
   * Runs container {@code id} from {@code bundle} to its end and returns the exit code. On interrupt
   * the container is killed and deleted, then InterruptedException is thrown.
   */
  public int run(String id, Path bundle, OutputSink sink) throws IOException, InterruptedException {
    Files.createDirectories(stateRoot);
    ProcessBuilder pb = new ProcessBuilder(binary, "--root", stateRoot.toString(), "run", "--bundle",
        bundle.toAbsolutePath().toString(), id)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process process = pb.start();
    Thread out = pump(process.getInputStream(), sink, false);
    Thread err = pump(process.getErrorStream(), sink, true);
    try {
      int exit = process.waitFor();
      out.join();
      err.join();
      return exit;
    } catch (InterruptedException e) {
      kill(id);
      process.destroyForcibly();
      delete(id);
      throw e;
    }
  }

  /** SIGKILLs a running container; a container that is gone is fine. */
  public void kill(String id) {
    try {
      HostProcess.run(List.of(binary, "--root", stateRoot.toString(), "kill", id, "KILL"), null);
    } catch (IOException gone) {
      // already stopped or deleted
    }
  }

  /** Removes a container (running or not); one that is gone is fine. */
  public void delete(String id) {
    try {
      HostProcess.run(List.of(binary, "--root", stateRoot.toString(), "delete", "--force", id), null);
    } catch (IOException gone) {
      // already deleted
    }
  }

  /** Kills and deletes every container under our state root: stale state of a killed worker. */
  public List<String> deleteAll() throws IOException {
    if (!Files.isDirectory(stateRoot)) {
      return List.of();
    }
    String ids = HostProcess.run(List.of(binary, "--root", stateRoot.toString(), "list", "-q"), null);
    List<String> all = Arrays.stream(ids.split("\n")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    all.forEach(this::delete);
    return all;
  }

  private static Thread pump(InputStream in, OutputSink sink, boolean stderr) {
    return Thread.ofVirtual().start(() -> {
      byte[] buffer = new byte[8192];
      try (in) {
        int n;
        while ((n = in.read(buffer)) > 0) {
          sink.write(buffer, n, stderr);
        }
      } catch (IOException closed) {
        // the process ended
      }
    });
  }
}
