package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerCommandTest {
  @TempDir Path dir;

  @Test
  void aMissingRequiredKeyIsOneLineNamingIt() {
    CliRun run = CliRun.of("worker", "--s3", "http://127.0.0.1:1", "--bucket", "b", "--work-dir", dir.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr().strip()).isEqualTo(
        "error: kafka is required (flag --kafka, env STAGEFARM_KAFKA, or the YAML file)");
  }

  @Test
  void anUnknownYamlKeyIsNamed() throws Exception {
    Path yaml = dir.resolve("worker.yaml");
    Files.writeString(yaml, "kafka: 127.0.0.1:1\nconcurrrency: 2\n");
    CliRun run = CliRun.of("worker", "--config", yaml.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).contains("unknown key 'concurrrency'").doesNotContain("Exception");
  }

  @Test
  void everyKeyIsAFlagAndSetStillWorksForAny() {
    CliRun run = CliRun.of("worker", "--kafka", "k:1", "--s3", "http://127.0.0.1:1", "--s3-access-key", "a",
        "--s3-secret-key", "hidden", "--farm-key-file", "/k", "--allow-insecure", "--set", "heartbeat-interval=2s",
        "--print-config");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(0);
    assertThat(run.stdout())
        .contains("s3-endpoint = http://127.0.0.1:1  (flag --s3-endpoint)")
        .contains("allow-insecure = true  (flag --allow-insecure)")
        .contains("heartbeat-interval = 2s  (flag --heartbeat-interval)")
        .contains("s3-secret-key = ****  (flag --s3-secret-key)")
        .contains("bucket = stagefarm  (default)")
        .doesNotContain("hidden");
  }

  @Test
  void aBadMetricsAddressOrLogFormatIsOneLineNamingTheKey() {
    CliRun address = CliRun.of("worker", "--kafka", "k:1", "--s3", "http://127.0.0.1:1", "--farm-key-file", "/k",
        "--metrics-listen", "9465");
    assertThat(address.exitCode()).isEqualTo(1);
    assertThat(address.stderr().strip()).isEqualTo(
        "error: metrics-listen: '9465' is not HOST:PORT (e.g. 0.0.0.0:9464, :9464)");

    CliRun format = CliRun.of("worker", "--kafka", "k:1", "--s3", "http://127.0.0.1:1", "--farm-key-file", "/k",
        "--log-format", "xml");
    assertThat(format.exitCode()).isEqualTo(1);
    assertThat(format.stderr().strip()).isEqualTo("error: log-format: log format 'xml': use text or json");
  }

  @Test
  void badTraceHeadersAreOneLineNamingTheKeyNotTheValue() {
    CliRun headers = CliRun.of("worker", "--kafka", "k:1", "--s3", "http://127.0.0.1:1", "--farm-key-file", "/k",
        "--otel-endpoint", "http://127.0.0.1:4318", "--otel-headers", "x-api-key=ok,s3cr3t-without-a-name");
    assertThat(headers.exitCode()).isEqualTo(1);
    assertThat(headers.stderr().strip()).startsWith("error: otel-headers: item 2 is not `name=value`")
        .doesNotContain("s3cr3t");

    CliRun printed = CliRun.of("worker", "--kafka", "k:1", "--s3", "http://127.0.0.1:1", "--farm-key-file", "/k",
        "--otel-headers", "x-api-key=s3cr3t", "--print-config");
    assertThat(printed.stdout()).contains("otel-headers = ****").doesNotContain("s3cr3t");
  }
}
