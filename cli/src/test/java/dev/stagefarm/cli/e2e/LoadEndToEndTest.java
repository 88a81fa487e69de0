package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stagefarm.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --load} into a real Docker engine: a private dockerd (its own data root and socket, no
 * bridge or iptables rules, so nothing of the host's networking changes) started for this class;
 * the CLI runs as a child process with {@code DOCKER_HOST} pointing at it, as in a CI job. The
 * loaded image is then run by that engine.
 */
class LoadEndToEndTest {
  @TempDir static Path dir;
  private static Process dockerd;
  private static Path engine;
  private static String dockerHost;

  @BeforeAll
  static void startDockerd() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/sbin/dockerd")) || Files.isExecutable(Path.of("/usr/bin/dockerd")),
        "dockerd is not installed");
    // a short path: a unix socket's path is limited to about 100 bytes
    engine = Files.createTempDirectory(Path.of("/tmp"), "sf-dockerd-");
    dockerHost = "unix://" + engine.resolve("docker.sock");
    dockerd = new ProcessBuilder("dockerd", "--data-root", engine.resolve("data").toString(), "--exec-root",
        engine.resolve("exec").toString(), "--pidfile", engine.resolve("dockerd.pid").toString(), "-H", dockerHost,
        "--storage-driver", "overlay2", "--bridge=none", "--iptables=false")
        .redirectErrorStream(true).redirectOutput(engine.resolve("dockerd.log").toFile()).start();
    for (int i = 0; i < 300; i++) {
      if (docker("info").exitCode() == 0) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("dockerd did not start: " + Files.readString(engine.resolve("dockerd.log")));
  }

  @AfterAll
  static void stopDockerd() throws Exception {
    if (dockerd != null) {
      dockerd.destroy();
      if (!dockerd.waitFor(30, TimeUnit.SECONDS)) {
        dockerd.destroyForcibly();
        dockerd.waitFor(30, TimeUnit.SECONDS);
      }
    }
    if (engine != null) { // the engine's images and state: root-owned overlay directories
      new ProcessBuilder("rm", "-rf", engine.toString()).inheritIO().start().waitFor(5, TimeUnit.MINUTES);
    }
  }

  @Test
  void loadPutsTheImageIntoTheEngineOfDockerHostWhichRunsIt() throws Exception {
    String nonce = UUID.randomUUID().toString();
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\nRUN echo %s > /nonce\nCMD [\"cat\", \"/nonce\"]\n"
        .formatted(FarmUnderTest.busybox(), nonce));
    String name = "e2e/loaded:" + nonce.substring(0, 8);

    ImageChecks.Run cli = stagefarm(List.of("build", "--coordinator", FarmUnderTest.farm().endpoint(), "--progress",
        "plain", "-t", name, "--load", ctx.toString()));

    assertThat(cli.exitCode()).as(cli.output()).isZero();
    assertThat(cli.output()).contains("Loaded image: " + name);
    ImageChecks.Run run = docker("run", "--rm", "--network", "none", name);
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output().strip()).isEqualTo(nonce);
  }

  @Test
  void loadWithoutAReachableEngineIsAFarmFailure() throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx-none"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\n".formatted(FarmUnderTest.busybox()));
    ImageChecks.Run cli = stagefarm(List.of("build", "--coordinator", FarmUnderTest.farm().endpoint(), "--load",
        ctx.toString()), "unix://" + dir.resolve("no-engine.sock"));
    assertThat(cli.exitCode()).as(cli.output()).isEqualTo(3);
    assertThat(cli.output()).contains("--load: docker load failed (is a Docker engine running? DOCKER_HOST=unix://");
  }

  private static ImageChecks.Run stagefarm(List<String> args) throws Exception {
    return stagefarm(args, dockerHost);
  }

  /** The CLI in a child JVM (its own environment), standard output and error together. */
  private static ImageChecks.Run stagefarm(List<String> args, String host) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(Map.of("DOCKER_HOST", host,
        "STAGEFARM_HOME", Files.createDirectories(dir.resolve("home")).toString()));
    return collect(builder.start(), 10);
  }

  private static ImageChecks.Run docker(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("docker", "-H", dockerHost));
    command.addAll(List.of(args));
    return collect(new ProcessBuilder(command).redirectErrorStream(true).start(), 5);
  }

  private static ImageChecks.Run collect(Process process, int minutes) throws IOException, InterruptedException {
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("did not finish in " + minutes + " minutes: " + process.info().commandLine());
    }
    return new ImageChecks.Run(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }
}
