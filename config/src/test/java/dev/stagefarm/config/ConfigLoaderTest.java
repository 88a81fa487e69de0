package dev.stagefarm.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  private static final Map<String, String> REQUIRED = Map.of("kafka", "k:9092", "s3-endpoint", "http://s3:9000",
      "farm-key-file", "/etc/stagefarm/farm.key");

  private static Map<String, String> with(Map<String, String> base, String key, String value) {
    var m = new java.util.LinkedHashMap<>(base);
    m.put(key, value);
    return m;
  }

  @Test
  void flagsBeatTheEnvironmentWhichBeatsTheFileWhichBeatsDefaults() throws Exception {
    Path yaml = Files.writeString(dir.resolve("coordinator.yaml"), """
        kafka: file:9092
        s3-endpoint: http://file:9000
        farm-key-file: /file.key
        port: 7171
        lease-timeout: 40
        max-attempts: 4
        """);
    ConfigValues v = ConfigLoader.load(CoordinatorKeys.DEF, yaml,
        Map.of("STAGEFARM_PORT", "7272", "STAGEFARM_MAX_ATTEMPTS", "5"), Map.of("max-attempts", "6"));
    assertThat(v.get(CommonKeys.KAFKA)).isEqualTo("file:9092");
    assertThat(v.get(CoordinatorKeys.PORT)).isEqualTo(7272);
    assertThat(v.get(CoordinatorKeys.MAX_ATTEMPTS)).isEqualTo(6);
    assertThat(v.get(CoordinatorKeys.LEASE_TIMEOUT)).isEqualTo(Duration.ofSeconds(40));
    assertThat(v.get(CoordinatorKeys.QUEUE_LEASE)).isEqualTo(Duration.ofMinutes(15));
    assertThat(v.source(CoordinatorKeys.PORT)).hasToString("environment STAGEFARM_PORT");
    assertThat(v.source(CoordinatorKeys.MAX_ATTEMPTS)).hasToString("flag --max-attempts");
    assertThat(v.source(CoordinatorKeys.LEASE_TIMEOUT)).hasToString("config file " + yaml);
    assertThat(v.source(CoordinatorKeys.QUEUE_LEASE)).isEqualTo(Source.DEFAULT);
    assertThat(v.get(CoordinatorKeys.TLS_CERT)).isNull();
  }

  @Test
  void anUnknownKeyIsAnErrorFromTheFileTheFlagsAndTheEnvironment() throws Exception {
    Path yaml = Files.writeString(dir.resolve("c.yaml"), "kafka: k:1\nleese-timeout: 30\n");
    assertThatThrownBy(() -> ConfigLoader.load(CoordinatorKeys.DEF, yaml, Map.of(), REQUIRED))
        .isInstanceOf(ConfigException.class)
        .hasMessage("config file " + yaml + ": unknown key 'leese-timeout' (the coordinator's keys are in"
            + " docs/configuration.md)");
    assertThatThrownBy(() -> ConfigLoader.load(CoordinatorKeys.DEF, null, Map.of(), with(REQUIRED, "prot", "1")))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("flags: unknown key 'prot'");
    assertThatThrownBy(() -> ConfigLoader.load(CoordinatorKeys.DEF, null, Map.of("STAGEFARM_S3_REGOIN", "eu"),
        REQUIRED))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("environment STAGEFARM_S3_REGOIN is not a setting of any stagefarm role");
  }

  @Test
  void anotherRolesKeyIsNamedAsSuchInAFileAndIgnoredInTheSharedEnvironment() throws Exception {
    Path yaml = Files.writeString(dir.resolve("c.yaml"), "concurrency: 4\n");
    assertThatThrownBy(() -> ConfigLoader.load(CoordinatorKeys.DEF, yaml, Map.of(), REQUIRED))
        .hasMessage("config file " + yaml + ": unknown key 'concurrency': a key of the worker, not of the coordinator");
    ConfigValues v = ConfigLoader.load(CoordinatorKeys.DEF, null,
        Map.of("STAGEFARM_CONCURRENCY", "4", "STAGEFARM_HOME", "/x", "STAGEFARM_TOKEN", "t", "PATH", "/bin"), REQUIRED);
    assertThat(v.get(CoordinatorKeys.PORT)).isEqualTo(7070);
  }

  @Test
  void aBadValueNamesTheKeyItsSourceAndTheRule() {
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, null, Map.of("STAGEFARM_POLL_TIMEOUT", "soon"),
        REQUIRED))
        .hasMessage("poll-timeout: 'soon' from environment STAGEFARM_POLL_TIMEOUT is not a duration (e.g. 500ms, 5s,"
            + " 2m, 1h)");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, null, Map.of(), with(REQUIRED, "concurrency", "0")))
        .hasMessage("concurrency: '0' from flag --concurrency must be at least 1");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, null, Map.of(), with(REQUIRED, "run-memory", "1MiB")))
        .hasMessage("run-memory: '1MiB' from flag --run-memory must be 0 (no limit) or at least 6MiB");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, null, Map.of(),
        with(REQUIRED, "allow-insecure", "yes please")))
        .hasMessage("allow-insecure: 'yes please' from flag --allow-insecure is not true or false");
    assertThatThrownBy(() -> ConfigLoader.load(CoordinatorKeys.DEF, null, Map.of(),
        with(REQUIRED, "s3-endpoint", "s3.example.com")))
        .hasMessage("s3-endpoint: 's3.example.com' from flag --s3-endpoint must be an http:// or https:// URL");
  }

  @Test
  void aSecretIsNeverShownInAnErrorOrThePrintedConfig() {
    ConfigKey<Integer> pin = ConfigKey.of("pin", ConfigType.INT, "a secret number").asSecret();
    ConfigDef def = new ConfigDef("test", List.of(pin), Map.of());
    assertThatThrownBy(() -> ConfigLoader.load(def, null, Map.of(), Map.of("pin", "hunter2")))
        .hasMessage("pin: (secret, not shown) from flag --pin is not a whole number")
        .message().doesNotContain("hunter2");
    ConfigValues v = ConfigLoader.load(CoordinatorKeys.DEF, null, Map.of("STAGEFARM_S3_SECRET_KEY", "hunter2"),
        REQUIRED);
    assertThat(v.get(CommonKeys.S3_SECRET_KEY)).isEqualTo("hunter2");
    assertThat(String.join("\n", v.describe()))
        .contains("s3-secret-key = ****  (environment STAGEFARM_S3_SECRET_KEY)").doesNotContain("hunter2");
  }

  @Test
  void anAliasWorksFromEverySourceButNotTogetherWithItsKey() throws Exception {
    Path yaml = Files.writeString(dir.resolve("w.yaml"), "s3: http://old:9000\n");
    ConfigValues v = ConfigLoader.load(WorkerKeys.DEF, yaml, Map.of(), Map.of("kafka", "k:1", "farm-key-file", "/k"));
    assertThat(v.get(CommonKeys.S3_ENDPOINT)).isEqualTo("http://old:9000");
    v = ConfigLoader.load(WorkerKeys.DEF, null, Map.of("STAGEFARM_S3", "http://env:9000"),
        Map.of("kafka", "k:1", "farm-key-file", "/k"));
    assertThat(v.get(CommonKeys.S3_ENDPOINT)).isEqualTo("http://env:9000");
    Path both = Files.writeString(dir.resolve("both.yaml"), "s3: http://a\ns3-endpoint: http://b\n");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, both, Map.of(), REQUIRED))
        .hasMessage("config file " + both + ": 's3' and 's3-endpoint' both set s3-endpoint: keep one");
  }

  @Test
  void aRemovedKeySaysWhatReplacedItFromEverySource() throws Exception {
    Path yaml = Files.writeString(dir.resolve("old.yaml"), "secrets-dir: /run/secrets\n");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, yaml, Map.of(), REQUIRED))
        .hasMessageContaining("'secrets-dir' was removed: build secrets come from the client of each build");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, null, Map.of("STAGEFARM_SECRETS_DIR", "/x"), REQUIRED))
        .hasMessageContaining("'secrets-dir' was removed");
  }

  @Test
  void listsComeFromRepeatedFlagsCommasOrYamlSequences() throws Exception {
    Path yaml = Files.writeString(dir.resolve("c.yaml"), "insecure-registry: [a:5000, b:5000]\n");
    ConfigValues v = ConfigLoader.load(CoordinatorKeys.DEF, yaml, Map.of(), REQUIRED);
    assertThat(v.get(CoordinatorKeys.INSECURE_REGISTRY)).containsExactly("a:5000", "b:5000");
    v = ConfigLoader.load(CoordinatorKeys.DEF, null, Map.of("STAGEFARM_ADMIN_CN", "root, ops"), REQUIRED);
    assertThat(v.get(CoordinatorKeys.ADMIN_CN)).containsExactly("root", "ops");
  }

  @Test
  void aMissingRequiredKeyNamesEveryWayToSetIt() {
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, null, Map.of(), Map.of()))
        .hasMessage("kafka is required (flag --kafka, env STAGEFARM_KAFKA, or the YAML file)");
  }

  @Test
  void aFileThatIsNotAMappingOrNestsValuesIsRefused() throws Exception {
    Path list = Files.writeString(dir.resolve("l.yaml"), "- kafka\n");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, list, Map.of(), REQUIRED))
        .hasMessage("config file " + list + " must be a mapping of key: value");
    Path nested = Files.writeString(dir.resolve("n.yaml"), "kafka:\n  host: k\n");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, nested, Map.of(), REQUIRED))
        .hasMessage("config file " + nested + ": 'kafka' must be a single value or a list");
    Path twice = Files.writeString(dir.resolve("t.yaml"), "kafka: a:1\nkafka: b:1\n");
    assertThatThrownBy(() -> ConfigLoader.load(WorkerKeys.DEF, twice, Map.of(), REQUIRED))
        .hasMessageContaining("config file " + twice + " is not valid YAML").hasMessageContaining("kafka");
  }

  @Test
  void everyRoleTableParsesItsOwnDefaultsAndNoNameMeansTwoThings() {
    for (ConfigDef def : Roles.ALL) {
      ConfigValues v = ConfigLoader.load(def, null, Map.of(), REQUIRED.entrySet().stream()
          .filter(e -> def.find(e.getKey()).isPresent())
          .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
      assertThat(v.describe()).hasSize(def.keys().size());
    }
    // a key shared by two roles is the same declaration in both (one meaning per name)
    for (ConfigDef a : Roles.ALL) {
      for (ConfigDef b : Roles.ALL) {
        for (ConfigKey<?> key : a.keys()) {
          b.find(key.name()).ifPresent(other -> assertThat(other).as(key.name()).isSameAs(key));
        }
      }
    }
  }
}
