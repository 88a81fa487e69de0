package dev.stagefarm.cli.e2e;

import dev.stagefarm.cli.Main;
import dev.stagefarm.worker.config.WorkerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A {@code stagefarm worker} in its own JVM, so a test can SIGKILL it mid-stage. */
final class ChildWorker implements AutoCloseable {
  private final Process process;
  final WorkerConfig config;

  private ChildWorker(Process process, WorkerConfig config) {
    this.process = process;
    this.config = config;
  }

  /** Starts the worker of {@code config} (farm keys from {@code farmKeyFile}); returns once it runs. */
  static ChildWorker start(WorkerConfig config, Path farmKeyFile) throws IOException {
    return start(config, farmKeyFile, List.of());
  }

  /** As {@link #start(WorkerConfig, Path)}, with more {@code stagefarm worker} arguments. */
  static ChildWorker start(WorkerConfig config, Path farmKeyFile, List<String> extraArgs) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "worker",
        "--kafka", config.kafka(), "--s3", config.s3Endpoint(), "--s3-access-key", config.s3AccessKey(),
        "--s3-secret-key", config.s3SecretKey(), "--bucket", config.bucket(), "--work-dir", config.workDir().toString(),
        "--worker-id", config.workerId(), "--set", "farm-key-file=" + farmKeyFile, "--set", "heartbeat-interval=1s",
        "--set", "create-topics=false"));
    command.addAll(extraArgs);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = reader.readLine()) != null) {
      if (line.contains("stagefarm worker " + config.workerId() + " running")) {
        Thread.ofVirtual().start(() -> {
          try {
            reader.transferTo(java.io.Writer.nullWriter());
            process.getInputStream().transferTo(OutputStream.nullOutputStream());
          } catch (IOException gone) {
            // the worker exited
          }
        });
        return new ChildWorker(process, config);
      }
    }
    process.destroyForcibly();
    throw new IOException("worker " + config.workerId() + " exited before it was running");
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no acknowledgement, no goodbye; its container and mounts stay behind. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy(); // SIGTERM: a graceful stop
    if (!process.waitFor(40, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor();
    }
  }
}
