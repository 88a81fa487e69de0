package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.Main;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm up --metrics-listen}: the all-in-one farm, run as a user runs it (its own JVM),
 * serves one Prometheus endpoint with the coordinator's meters (the queued-stage gauge) and each
 * in-process worker's, tagged with the worker's id.
 */
class UpMetricsEndToEndTest {
  @TempDir Path dir;

  @Test
  void upServesTheCoordinatorsAndEveryWorkersMetricsOnOneEndpoint() throws Exception {
    int metricsPort = MetricsEndToEndTest.freePort();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED"));
    if (Runtime.version().feature() >= 24) {
      command.add("--sun-misc-unsafe-memory-access=allow");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "up",
        "--port", "0", "--workers", "2", "--data", dir.resolve("data").toString(),
        "--metrics-listen", "127.0.0.1:" + metricsPort));
    Process up = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    List<String> output = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread reader = Thread.ofVirtual().start(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8))) {
        lines.lines().forEach(output::add);
      } catch (java.io.IOException ignored) {
        // the process ended
      }
    });
    try {
      MetricsEndToEndTest.awaitStatus(metricsPort, "/readyz", 200);
      MetricsEndToEndTest.awaitStatus(metricsPort, "/livez", 200);
      String scrape = MetricsEndToEndTest.scrape(metricsPort);

      assertThat(MetricsEndToEndTest.gauge(scrape, "stagefarm_stages_queued")).as(scrape).hasValue(0.0);
      assertThat(MetricsEndToEndTest.gauge(scrape, "stagefarm_coordinator_active")).as(scrape).hasValue(1.0);
      assertThat(scrape).contains("stagefarm_worker_slots_free{worker=\"worker-1\"}")
          .contains("stagefarm_worker_slots_free{worker=\"worker-2\"}")
          .contains("stagefarm_worker_cache_lookups_total{worker=\"worker-1\"}")
          .contains("jvm_memory_used_bytes");
      awaitLine(output, "  metrics:            http://127.0.0.1:" + metricsPort + "/metrics");
    } finally {
      up.destroy(); // SIGTERM: the shutdown hook stops the farm
      if (!up.waitFor(60, TimeUnit.SECONDS)) {
        up.destroyForcibly();
      }
      reader.join(10_000);
    }
  }

  private static void awaitLine(List<String> output, String line) throws InterruptedException {
    for (int i = 0; i < 600 && !output.contains(line); i++) {
      Thread.sleep(100);
    }
    assertThat(output).contains(line);
  }
}
