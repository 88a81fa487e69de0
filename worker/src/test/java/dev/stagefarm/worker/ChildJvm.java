package dev.stagefarm.worker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A main class of the test classpath in its own JVM, so a test can SIGKILL it. */
public final class ChildJvm {
  private ChildJvm() {}

  /** Starts {@code main} and returns once it printed READY (its further output is discarded). */
  public static Process startReady(Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader reader = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = reader.readLine()) != null) {
      if (line.contains("READY")) {
        Thread.ofVirtual().start(() -> {
          try {
            child.getInputStream().transferTo(OutputStream.nullOutputStream());
          } catch (IOException killed) {
            // the child is gone
          }
        });
        return child;
      }
    }
    child.destroyForcibly();
    throw new AssertionError(main.getSimpleName() + " closed its output before it was ready");
  }
}
