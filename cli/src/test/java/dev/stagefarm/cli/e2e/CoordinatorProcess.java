package dev.stagefarm.cli.e2e;

import dev.stagefarm.cli.Main;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.testkit.RegistryFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code stagefarm coordinator} in a JVM of its own against the test farm's Kafka and S3, so a
 * test can SIGKILL it. Its output goes to the test's stderr, prefixed with its name.
 */
final class CoordinatorProcess implements AutoCloseable {
  final String name;
  final int port;
  final Process process;
  final boolean startedActive;

  private CoordinatorProcess(String name, int port, Process process, boolean startedActive) {
    this.name = name;
    this.port = port;
    this.process = process;
    this.startedActive = startedActive;
  }

  /** Starts a coordinator of the farm whose coordinators share {@code group}; returns once it serves. */
  static CoordinatorProcess start(String name, String group) throws Exception {
    var farm = FarmUnderTest.farm();
    int port = freePort();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "coordinator",
        "--group", group,
        "--kafka", farm.kafkaBootstrap(),
        "--s3-endpoint", farm.s3Endpoint(),
        "--s3-access-key", EmbeddedS3.DEFAULT_ACCESS_KEY,
        "--s3-secret-key", EmbeddedS3.DEFAULT_SECRET_KEY,
        "--port", Integer.toString(port),
        "--advertise", "127.0.0.1:" + port,
        "--lease-timeout", "20",
        "--farm-key-file", FarmUnderTest.farmKeyFile().toString(),
        "--insecure-registry", RegistryFixture.shared().host()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Boolean> ready = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      try {
        String line;
        while ((line = reader.readLine()) != null) {
          System.err.println("[" + name + "] " + line);
          if (line.contains("coordinator listening on")) {
            ready.complete(line.endsWith("active"));
          }
        }
      } catch (IOException gone) {
        // killed
      }
      ready.complete(null);
    });
    Boolean active = ready.get(120, TimeUnit.SECONDS);
    if (active == null) {
      throw new AssertionError("coordinator " + name + " exited before it served");
    }
    return new CoordinatorProcess(name, port, process, active);
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  /** SIGKILL: no shutdown hook, no leaving the group, no last write. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      kill();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
