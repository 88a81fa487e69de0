package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm coordinator} and {@code stagefarm up} refuse a gRPC port that others could use
 * without authentication, before anything starts (nothing here reaches Kafka or S3: port 1).
 */
class CoordinatorCommandTest {
  @TempDir Path dir;
  Path farmKey;

  @BeforeEach
  void farmKey() throws Exception {
    farmKey = dir.resolve("farm.key");
    FarmKeys.loadOrCreate(farmKey);
  }

  CliRun coordinator(String... flags) {
    List<String> args = new ArrayList<>(List.of("coordinator", "--kafka", "127.0.0.1:1", "--s3-endpoint",
        "http://127.0.0.1:1", "--s3-access-key", "a", "--s3-secret-key", "b", "--farm-key-file", farmKey.toString()));
    args.addAll(List.of(flags));
    return CliRun.of(args.toArray(String[]::new));
  }

  static void assertOneLineError(CliRun run, String message) {
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).startsWith("error: ").contains(message).doesNotContain("Exception", "\tat ");
  }

  @Test
  void aBadMetricsAddressOrLogFormatIsRefusedBeforeAnythingStarts() throws Exception {
    assertOneLineError(coordinator("--metrics-listen", "localhost:metrics"),
        "metrics-listen: 'localhost:metrics': the port is not a number");
    assertOneLineError(coordinator("--log-format", "yaml"), "log-format: log format 'yaml': use text or json");
  }

  @Test
  void anOpenBindWithoutAuthenticationIsRefusedNamingTheWayOut() {
    assertOneLineError(coordinator("--bind", "0.0.0.0"),
        "refusing to listen on 0.0.0.0 without authentication: configure --tokens-file or --tls-client-ca");
  }

  @Test
  void tokensWithoutTlsOnAnOpenBindAreRefused() throws Exception {
    Path tokens = Files.writeString(dir.resolve("tokens"), "sha256:" + "a".repeat(64) + " alice client\n");
    assertOneLineError(coordinator("--tokens-file", tokens.toString()),
        "bearer tokens would cross the network in clear text: add --tls-cert and --tls-key");
  }

  @Test
  void tlsAndTokenFileMistakesAreOneLineNamingTheFlagOrFile() throws Exception {
    assertOneLineError(coordinator("--tls-cert", dir.resolve("cert.pem").toString()),
        "--tls-cert and --tls-key go together");
    assertOneLineError(coordinator("--tokens-file", dir.resolve("missing").toString()),
        "the tokens file " + dir.resolve("missing") + " does not exist");
    Path tokens = Files.writeString(dir.resolve("tokens"), "alice-secret alice client\n");
    assertOneLineError(coordinator("--tokens-file", tokens.toString()), "line 1: the token hash must be sha256:");
    assertOneLineError(coordinator("--admin-cn", "root"), "--admin-cn names client-certificate identities");
    Path key = Files.writeString(dir.resolve("key.pem"), "not a key");
    Path tokensOk = Files.writeString(dir.resolve("tokens-ok"), "sha256:" + "a".repeat(64) + " alice client\n");
    assertOneLineError(coordinator("--tokens-file", tokensOk.toString(), "--tls-cert", dir.resolve("nope.pem").toString(),
        "--tls-key", key.toString()), "cannot serve TLS: cannot read the TLS certificate " + dir.resolve("nope.pem"));
    Path cert = TestCertificates.authority("farm", dir).server("coordinator").cert();
    assertOneLineError(coordinator("--tokens-file", tokensOk.toString(), "--tls-cert", cert.toString(),
        "--tls-key", key.toString()), "cannot serve TLS: ");
  }

  @Test
  void upWithoutAuthenticationStaysOnLoopback() {
    CliRun run = CliRun.of("up", "--data", dir.toString(), "--bind", "0.0.0.0", "--allow-unauthenticated");
    assertOneLineError(run, "stagefarm up listens beyond loopback only with authentication");
  }

  @Test
  void aYamlFileGivesTheSameKeysAsTheFlagsAndFlagsWin() throws Exception {
    Path yaml = Files.writeString(dir.resolve("coordinator.yaml"), """
        kafka: kafka-0:9092
        s3-endpoint: https://s3.eu-west-1.amazonaws.com
        s3-region: eu-west-1
        s3-access-key: AKIA1
        s3-secret-key: do-not-print-me
        farm-key-file: %s
        lease-timeout: 40
        queue-lease: 5m
        insecure-registry: [a:5000, b:5000]
        """.formatted(farmKey));
    CliRun run = CliRun.of("coordinator", "--config", yaml.toString(), "--lease-timeout", "20", "--no-create-topics",
        "--print-config");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(0);
    assertThat(run.stdout())
        .contains("kafka = kafka-0:9092  (config file " + yaml + ")")
        .contains("s3-region = eu-west-1  (config file " + yaml + ")")
        .contains("s3-secret-key = ****  (config file " + yaml + ")")
        .contains("lease-timeout = 20  (flag --lease-timeout)")
        .contains("queue-lease = 5m  (config file " + yaml + ")")
        .contains("create-topics = false  (flag --create-topics)")
        .contains("insecure-registry = a:5000,b:5000  (config file " + yaml + ")")
        .contains("port = 7070  (default)")
        .doesNotContain("do-not-print-me");
  }

  @Test
  void anUnknownOrAnotherRolesKeyAndABadValueAreOneLineErrors() throws Exception {
    Path yaml = Files.writeString(dir.resolve("c.yaml"), "concurrency: 4\n");
    assertOneLineError(CliRun.of("coordinator", "--config", yaml.toString()),
        "unknown key 'concurrency': a key of the worker, not of the coordinator");
    assertOneLineError(coordinator("--max-attempts", "0"), "max-attempts: '0' from flag --max-attempts must be at"
        + " least 1");
    assertOneLineError(coordinator("--set", "leese-timeout=3"), "flags: unknown key 'leese-timeout'");
    assertOneLineError(coordinator("--s3-credentials", "file", "--s3-credentials-file", dir.resolve("no").toString()),
        "s3-credentials-file " + dir.resolve("no") + " cannot be read");
  }
}
