package dev.stagefarm.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.worker.runtime.RunLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerConfigLoaderTest {
  @TempDir Path dir;

  /** A farm key file, as a deployment mounts one. */
  private Path keyFile() throws Exception {
    Path file = dir.resolve("farm.key");
    Files.writeString(file, Base64.getEncoder().encodeToString(new byte[32]) + "\n");
    return file;
  }

  @Test
  void flagsBeatEnvironmentBeatsYamlBeatsDefaults() throws Exception {
    Path yaml = dir.resolve("worker.yaml");
    Files.writeString(yaml, """
        kafka: yaml:9092
        s3: http://yaml:9000
        s3-access-key: a
        s3-secret-key: s
        bucket: from-yaml
        concurrency: 3
        heartbeat-interval: 2s
        layer-cache-size: 512MiB
        farm-key-file: %s
        """.formatted(keyFile()));
    WorkerConfig config = WorkerConfigLoader.load(yaml,
        Map.of("STAGEFARM_KAFKA", "env:9092", "STAGEFARM_CONCURRENCY", "5"),
        Map.of("concurrency", "7"));
    assertThat(config.kafka()).isEqualTo("env:9092");
    assertThat(config.s3Endpoint()).isEqualTo("http://yaml:9000");
    assertThat(config.bucket()).isEqualTo("from-yaml");
    assertThat(config.concurrency()).isEqualTo(7);
    assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.layerCacheBytes()).isEqualTo(512L << 20);
    assertThat(config.pollTimeout()).isEqualTo(Duration.ofSeconds(1)); // default
    assertThat(config.network()).isEqualTo("sandbox");
    assertThat(config.allowHostNetwork()).isFalse();
  }

  @Test
  void theHostNetworkAsDefaultNeedsTheHostNetworkEntitlement() throws Exception {
    Map<String, String> base = Map.of("kafka", "k:1", "s3", "http://x", "bucket", "b", "s3-access-key", "a", "s3-secret-key", "s", "farm-key-file",
        keyFile().toString());
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "network", "host")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("allow-host-network");
    WorkerConfig host = WorkerConfigLoader.load(null, Map.of("STAGEFARM_ALLOW_HOST_NETWORK", "true"),
        with(base, "network", "host"));
    assertThat(host.network()).isEqualTo("host");
    assertThat(host.allowHostNetwork()).isTrue();
    assertThat(WorkerConfigLoader.load(null, Map.of(), with(base, "network", "default")).network()).isEqualTo("sandbox");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "allow-host-network", "yes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("allow-host-network");
  }

  @Test
  void errorsNameTheKey() throws Exception {
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), Map.of("s3", "http://x", "bucket", "b")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("kafka is required").hasMessageContaining("STAGEFARM_KAFKA");
    Map<String, String> base = Map.of("kafka", "k:1", "s3", "http://x", "bucket", "b", "s3-access-key", "a", "s3-secret-key", "s");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "poll-timeout", "soon")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("poll-timeout");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "network", "bridge")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("network");
    Path yaml = dir.resolve("bad.yaml");
    Files.writeString(yaml, "kafka: k:1\nconcurency: 2\n");
    assertThatThrownBy(() -> WorkerConfigLoader.load(yaml, Map.of(), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("unknown key 'concurency'");
  }

  @Test
  void theRemovedSecretsDirSaysWhereSecretsComeFromNow() throws Exception {
    Path yaml = dir.resolve("old.yaml");
    Files.writeString(yaml, "kafka: k:1\nsecrets-dir: /run/stagefarm/secrets\n");
    assertThatThrownBy(() -> WorkerConfigLoader.load(yaml, Map.of(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'secrets-dir' was removed: build secrets come from the client of each build");
  }

  @Test
  void runLimitsDefaultTo2GiB4096PidsAndEveryCoreAndAreOverridable() throws Exception {
    Map<String, String> base = Map.of("kafka", "k:1", "s3", "http://x", "bucket", "b", "s3-access-key", "a", "s3-secret-key", "s", "farm-key-file",
        keyFile().toString());
    assertThat(WorkerConfigLoader.load(null, Map.of(), base).runLimits())
        .isEqualTo(new RunLimits(2L << 30, 4096, Runtime.getRuntime().availableProcessors()));
    Map<String, String> flags = with(with(with(base, "run-memory", "256MiB"), "run-pids", "64"), "run-cpus", "1.5");
    RunLimits limits = WorkerConfigLoader.load(null, Map.of(), flags).runLimits();
    assertThat(limits).isEqualTo(new RunLimits(256L << 20, 64, 1.5));
    assertThat(limits.memorySetting()).isEqualTo("run-memory=256MiB");
    assertThat(limits.pidsSetting()).isEqualTo("run-pids=64");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "run-cpus", "two")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("run-cpus");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "run-memory", "1MiB")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("run-memory");
  }

  @Test
  void aFarmKeyFileIsRequiredAndMustHoldAUsableKey() throws Exception {
    Map<String, String> base = Map.of("kafka", "k:1", "s3", "http://x", "bucket", "b", "s3-access-key", "a", "s3-secret-key", "s");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), base))
        .isInstanceOf(ConfigException.class).hasMessageContaining("farm-key-file is required")
        .hasMessageContaining("STAGEFARM_FARM_KEY_FILE");
    Path shortKey = dir.resolve("short.key");
    Files.writeString(shortKey, Base64.getEncoder().encodeToString(new byte[8]));
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "farm-key-file", shortKey.toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("short.key line 1");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "farm-key-file", "/nonexistent/farm.key")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cannot read farm-key-file /nonexistent/farm.key");
    assertThat(WorkerConfigLoader.load(null, Map.of(), with(base, "farm-key-file", keyFile().toString())).farmKeys())
        .isNotNull();
  }

  @Test
  void aWorkerTakesRoleKeysButNeverTheCoordinatorsPrivateKey() throws Exception {
    Map<String, String> base = Map.of("kafka", "k:1", "s3", "http://x", "bucket", "b", "s3-access-key", "a", "s3-secret-key", "s");
    FarmKeys.RoleKeyFiles files = FarmKeys.generateRoleKeys();
    Path worker = Files.writeString(dir.resolve("worker.key"), files.worker());
    Path coordinator = Files.writeString(dir.resolve("coordinator.key"), files.coordinator());
    assertThat(WorkerConfigLoader.load(null, Map.of(), with(base, "farm-key-file", worker.toString())).farmKeys()
        .toString()).contains("worker-private", "coordinator-public");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "farm-key-file", coordinator.toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("no key that signs events");
    Path both = Files.writeString(dir.resolve("both.key"), files.worker() + files.coordinator());
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "farm-key-file", both.toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("coordinator's private key");
  }

  @Test
  void kafkaPropertiesPassSecuritySettingsAndNameAnyOtherKey() throws Exception {
    Map<String, String> base = Map.of("kafka", "k:1", "s3", "http://x", "bucket", "b", "s3-access-key", "a", "s3-secret-key", "s", "farm-key-file",
        keyFile().toString());
    assertThat(WorkerConfigLoader.load(null, Map.of(), base).kafkaSecurity().isEmpty()).isTrue();
    Path props = Files.writeString(dir.resolve("kafka.properties"),
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=x required password=\"p\";\n");
    WorkerConfig config = WorkerConfigLoader.load(null, Map.of("STAGEFARM_KAFKA_PROPERTIES", props.toString()), base);
    assertThat(config.kafkaSecurity().asMap()).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
    assertThat(config.withConcurrency(2).kafkaSecurity()).isEqualTo(config.kafkaSecurity());
    Files.writeString(props, "security.protocol=SASL_SSL\nenable.idempotence=false\n");
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "kafka-properties", props.toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("kafka-properties")
        .hasMessageContaining("'enable.idempotence'");
  }

  @Test
  void allowInsecureIsOffByDefaultAndStrict() throws Exception {
    Map<String, String> base = Map.of("kafka", "k:1", "s3", "http://x", "bucket", "b", "s3-access-key", "a", "s3-secret-key", "s", "farm-key-file",
        keyFile().toString());
    assertThat(WorkerConfigLoader.load(null, Map.of(), base).allowInsecure()).isFalse();
    assertThat(WorkerConfigLoader.load(null, Map.of("STAGEFARM_ALLOW_INSECURE", "true"), base).allowInsecure()).isTrue();
    assertThatThrownBy(() -> WorkerConfigLoader.load(null, Map.of(), with(base, "allow-insecure", "yes please")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("allow-insecure");
  }

  private static Map<String, String> with(Map<String, String> base, String key, String value) {
    var m = new java.util.HashMap<>(base);
    m.put(key, value);
    return m;
  }
}
