package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-shot's warm-up thread: only for one-shot command lines, and invisible in what a run prints and returns. */
class OneShotWarmUpTest {

  @Test
  void onlyAOneShotCommandLineStartsIt() throws Exception {
    assertThat(OneShotWarmUp.startFor("build", ".")).isNull();
    assertThat(OneShotWarmUp.startFor("bake", "-f", "docker-bake.hcl")).isNull();
    assertThat(OneShotWarmUp.startFor("parse", "Dockerfile")).isNull();
    assertThat(OneShotWarmUp.startFor()).isNull();

    Thread warmUp = OneShotWarmUp.startFor("build", "--one-shot", "--workers", "2", ".");
    assertThat(warmUp).isNotNull();
    assertThat(warmUp.isDaemon()).as("never keeps the JVM alive").isTrue();
    warmUp.join(TimeUnit.MINUTES.toMillis(1));
    assertThat(warmUp.isAlive()).isFalse();
    // what it initialised (gRPC's in-process transport among them) started nothing that would keep the JVM alive
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.threadId() > warmUp.threadId() && t.isAlive() && !t.isDaemon()).map(Thread::getName))
        .isEmpty();
  }

  @Test
  void aOneShotDockerfileSyntaxErrorIsTheSameLineAndExitCodeAndStartsNoFarm(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nFRM busybox\n");
    Path home = Files.createDirectories(dir.resolve("home"));
    // through Main.main in a child JVM, as the launcher runs it: the warm-up thread runs beside the check
    Child oneShot = child(home, dir, "build", "--one-shot", "--workers", "32", dir.toString());
    Child remote = child(home, dir, "build", "--coordinator", "127.0.0.1:1", dir.toString());
    assertThat(oneShot.output()).isEqualTo("error: Dockerfile:2: unknown instruction: FRM\n");
    assertThat(oneShot.exitCode()).isEqualTo(remote.exitCode()).isNotZero();
    assertThat(remote.output()).isEqualTo(oneShot.output());
    try (Stream<Path> files = Files.list(home)) {
      assertThat(files.toList()).as("no farm store, key, workers' slot or lock in the home").isEmpty();
    }
  }

  private record Child(String output, int exitCode) {}

  private static Child child(Path home, Path dir, String... args) throws Exception {
    Path log = Files.createTempFile(dir, "child", ".log");
    ProcessBuilder builder = new ProcessBuilder(Stream.concat(Stream.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), Main.class.getName()), Stream.of(args)).toList())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    builder.environment().put("STAGEFARM_HOME", home.toString());
    builder.environment().put("STAGEFARM_LOG_LEVEL", "INFO"); // a farm started would log it
    Process process = builder.start();
    assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
    return new Child(Files.readString(log), process.exitValue());
  }
}
