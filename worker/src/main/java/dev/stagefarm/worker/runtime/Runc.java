package dev.stagefarm.worker.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

  /** One for the process: every worker's runc puts its containers' cgroups in the same parents. */
  private static final ContainerCgroups CGROUPS = new ContainerCgroups();

  private final String binary;
  private final Path stateRoot;
  /** Deletes of containers that ran, off the RUN's path. Guarded by itself. */
  private final List<Thread> deleting = new ArrayList<>();

  public Runc(String binary, Path stateRoot) {
    this.binary = binary;
    this.stateRoot = stateRoot;
  }

  /**
   * Runs container {@code id} from {@code bundle} to its end and returns the exit code. On interrupt
   * the container is killed and deleted, then InterruptedException is thrown.
   */
  public int run(String id, Path bundle, OutputSink sink) throws IOException, InterruptedException {
    return runToEnd(id, bundle, sink, false);
  }

  /** How a container ended: its exit code and the cgroup limits it ran into. */
  public record Result(int exitCode, LimitEvents limits) {}

  /**
   * Runs container {@code id} like {@link #run}, but keeps it after its process exits long enough
   * to read its cgroups' limit counters (a foreground {@code runc run} removes them on exit), then
   * deletes it: in the background once it ran (its process is gone; {@link #awaitDeletes()} waits for
   * that), at once when it failed to start or was interrupted.
   */
  public Result runInspected(String id, Path bundle, OutputSink sink) throws IOException, InterruptedException {
    boolean ran = false;
    try {
      int exit = runToEnd(id, bundle, sink, true);
      Result result = new Result(exit, LimitEvents.read(CGROUPS.of(stateRoot, id)));
      ran = true;
      return result;
    } finally {
      if (ran) {
        deleteInBackground(id);
      } else {
        delete(id);
      }
    }
  }

  /** Waits until the background deletes started so far are done (a stage's end: no container left). */
  public void awaitDeletes() throws InterruptedException {
    List<Thread> running;
    synchronized (deleting) {
      running = new ArrayList<>(deleting);
    }
    for (Thread t : running) {
      t.join();
    }
  }

  private void deleteInBackground(String id) {
    synchronized (deleting) {
      Thread[] self = new Thread[1];
      self[0] = Thread.ofVirtual().name("runc-delete").unstarted(() -> {
        try {
          delete(id);
        } finally {
          synchronized (deleting) {
            deleting.remove(self[0]);
          }
        }
      });
      deleting.add(self[0]);
      self[0].start();
    }
  }

  private int runToEnd(String id, Path bundle, OutputSink sink, boolean keep) throws IOException, InterruptedException {
    Files.createDirectories(stateRoot);
    List<String> command = new ArrayList<>(List.of(binary, "--root", stateRoot.toString(), "run"));
    if (keep) {
      command.add("--keep");
    }
    command.addAll(List.of("--bundle", bundle.toAbsolutePath().toString(), id));
    ProcessBuilder pb = new ProcessBuilder(command)
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
    try (var entries = Files.list(stateRoot)) {
      if (entries.findAny().isEmpty()) {
        return List.of(); // runc keeps one directory per container there: none, so no runc process to ask
      }
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
