package dev.stagefarm.worker.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Runs a host tool (mount, umount, runc list) to completion; a failure names command, exit code and stderr. */
public final class HostProcess {
  private HostProcess() {}

  /** Runs {@code command} in {@code dir} (null: inherited) and returns its stdout. */
  public static String run(List<String> command, Path dir) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
    }
    try {
      var stderr = process.getErrorStream();
      byte[][] err = new byte[1][];
      Thread errReader = Thread.ofVirtual().start(() -> {
        try {
          err[0] = stderr.readAllBytes();
        } catch (IOException ignored) {
          err[0] = new byte[0];
        }
      });
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int exit = process.waitFor();
      errReader.join();
      if (exit != 0) {
        String message = new String(err[0], StandardCharsets.UTF_8).strip();
        throw new ExitException(summary(command) + " failed with exit code " + exit
            + (message.isEmpty() ? "" : ": " + tail(message, 1000)), exit);
      }
      return out;
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while running " + summary(command));
    }
  }

  /** The tool ran and exited non-zero; what that means (bad input or a host fault) is the caller's to say. */
  public static final class ExitException extends IOException {
    private final int exitCode;

    ExitException(String message, int exitCode) {
      super(message);
      this.exitCode = exitCode;
    }

    public int exitCode() {
      return exitCode;
    }
  }

  private static String summary(List<String> command) {
    return String.join(" ", command.subList(0, Math.min(command.size(), 4))) + (command.size() > 4 ? " …" : "");
  }

  private static String tail(String s, int max) {
    return s.length() <= max ? s : "…" + s.substring(s.length() - max);
  }
}
