package dev.stagefarm.worker.config;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.worker.runtime.RunLimits;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Builds a {@link WorkerConfig} from, in rising precedence: defaults in code, a YAML file, {@code
 * STAGEFARM_*} environment variables, command-line flags. Every key is declared once in {@link
 * #KEYS}; docs/configuration.md mirrors that list.
 */
public final class WorkerConfigLoader {

  /** A configuration key: its YAML/flag name, default (null = required or none) and meaning. */
  public record Key(String name, String defaultValue, String doc) {
    public String envName() {
      return "STAGEFARM_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }
  }

  public static final List<Key> KEYS = List.of(
      new Key("kafka", null, "Kafka bootstrap servers, host:port[,host:port]"),
      new Key("kafka-properties", "", "Java properties file with the Kafka clients' security settings"
          + " (security.protocol, sasl.*, ssl.*): this worker's principal (docs/security.md)"),
      new Key("s3", null, "S3 endpoint URL of the content store"),
      new Key("s3-access-key", "", "S3 access key"),
      new Key("s3-secret-key", "", "S3 secret key"),
      new Key("s3-region", "us-east-1", "S3 region"),
      new Key("bucket", null, "content-store bucket"),
      new Key("work-dir", "/var/lib/stagefarm/worker", "local state: layer cache, stage scratch, cache mounts, runc state"),
      new Key("concurrency", "1", "stages executed at once"),
      new Key("worker-id", "<hostname>-<pid>", "names this worker in events and logs"),
      new Key("share-group", "stagefarm-workers", "Kafka share group the workers join"),
      new Key("heartbeat-interval", "5s", "how often a running stage heartbeats on stagefarm.events"),
      new Key("poll-timeout", "1s", "task consumer poll timeout; bounds lock renewal and acknowledgement latency"),
      new Key("shutdown-grace", "30s", "graceful shutdown: how long running stages may finish before they are released"),
      new Key("layer-cache-size", "10GiB", "size bound of the extracted-layer cache (LRU)"),
      new Key("network", "sandbox", "network of RUN --network=default: sandbox (own namespace, outbound through"
          + " slirp4netns, worker host and link-local unreachable), none (loopback only) or host (needs allow-host-network)"),
      new Key("runc", "runc", "the runc binary"),
      new Key("log-rate", "256KiB", "RUN output streamed per stage per second; more is dropped with a marker"),
      new Key("log-max", "8MiB", "RUN output streamed per stage in total; more is dropped with a marker"),
      new Key("add-url-max-size", "2GiB", "the most one ADD <url> may download (streamed to disk); more fails the stage"),
      new Key("create-topics", "true", "create missing topics and the share-group config at start"),
      new Key("allow-insecure", "false",
          "run RUN --security=insecure with all capabilities (BuildKit's security.insecure entitlement); false: it fails"),
      new Key("fault-pause", "10s",
          "after a stage failed on an infrastructure fault here, a slot claims nothing for this long (the retry goes elsewhere)"),
      new Key("run-memory", "2GiB", "memory limit of each RUN (cgroup, swap not added); a RUN over it is killed, naming the limit"),
      new Key("run-pids", "4096", "the most processes and threads one RUN may have at once; 0 = no limit"),
      new Key("run-cpus", "<host cores>", "CPU time of each RUN in cores (e.g. 1.5); 0 = no limit"),
      new Key("stage-disk", "0", "the most one stage may write in all (its layers' files, on a loop-mounted"
          + " filesystem of this size); a stage over it fails naming the limit; 0 = no limit"),
      new Key("allow-host-network", "false",
          "run RUN --network=host in the worker host's namespace (BuildKit's network.host entitlement); false: it fails"),
      new Key("platforms", "<host platform>", "the platforms whose stages this worker takes, e.g. linux/amd64,linux/arm64;"
          + " another than the host's needs an enabled qemu binfmt_misc handler (qemu-user-static)"),
      new Key("farm-key-file", null,
          "file with the worker's farm keys: worker-private and coordinator-public role keys (stagefarm admin"
              + " farm-keys), or the shared key(s); the first key of a kind signs (docs/security.md)"));

  /** Workers read secrets from their own files no more; a config that still names the key says so. */
  private static final String REMOVED_SECRETS_DIR = "secrets-dir";

  private WorkerConfigLoader() {}

  /**
   * @param yamlFile a YAML file of {@code key: value} pairs (keys as in {@link #KEYS}), or null
   * @param env the environment ({@code System.getenv()})
   * @param flags keys given on the command line (only those the user set)
   */
  public static WorkerConfig load(Path yamlFile, Map<String, String> env, Map<String, String> flags) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Key key : KEYS) {
      if (key.defaultValue() != null) {
        values.put(key.name(), key.defaultValue());
      }
    }
    if (yamlFile != null) {
      values.putAll(readYaml(yamlFile));
    }
    for (Key key : KEYS) {
      String v = env.get(key.envName());
      if (v != null && !v.isEmpty()) {
        values.put(key.name(), v);
      }
    }
    flags.forEach((k, v) -> {
      if (v != null) {
        values.put(k, v);
      }
    });
    return build(values);
  }

  private static WorkerConfig build(Map<String, String> v) {
    String workerId = v.get("worker-id");
    if (workerId == null || workerId.equals("<hostname>-<pid>") || workerId.isBlank()) {
      workerId = WorkerConfig.defaultWorkerId();
    }
    return new WorkerConfig(
        v.get("kafka"),
        v.get("s3"),
        v.get("s3-access-key"),
        v.get("s3-secret-key"),
        v.get("s3-region"),
        v.get("bucket"),
        Path.of(v.get("work-dir")),
        parseInt("concurrency", v.get("concurrency")),
        workerId,
        v.get("share-group"),
        parseDuration("heartbeat-interval", v.get("heartbeat-interval")),
        parseDuration("poll-timeout", v.get("poll-timeout")),
        parseDuration("shutdown-grace", v.get("shutdown-grace")),
        parseSize("layer-cache-size", v.get("layer-cache-size")),
        v.get("network"),
        v.get("runc"),
        parseSize("log-rate", v.get("log-rate")),
        parseSize("log-max", v.get("log-max")),
        parseSize("add-url-max-size", v.get("add-url-max-size")),
        Boolean.parseBoolean(v.get("create-topics")),
        parseBoolean("allow-insecure", v.get("allow-insecure")),
        parseDuration("fault-pause", v.get("fault-pause")),
        runLimits(v),
        parseBoolean("allow-host-network", v.get("allow-host-network")),
        farmKeys(v.get("farm-key-file")),
        kafkaSecurity(v.getOrDefault("kafka-properties", "")),
        platforms(v.getOrDefault("platforms", "<host platform>")));
  }

  private static List<Platform> platforms(String value) {
    return value.strip().equals("<host platform>")
        ? List.of(WorkerPlatforms.host()) : WorkerPlatforms.parse(value, WorkerPlatforms.BINFMT_MISC);
  }

  private static KafkaClientProperties kafkaSecurity(String file) {
    if (file.isBlank()) {
      return KafkaClientProperties.none();
    }
    try {
      return KafkaClientProperties.load(Path.of(file));
    } catch (IOException e) {
      throw new ConfigException("cannot read kafka-properties " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("kafka-properties: " + e.getMessage(), e);
    }
  }

  private static RunLimits runLimits(Map<String, String> v) {
    String cpus = v.get("run-cpus").strip();
    double cores;
    try {
      cores = cpus.equals("<host cores>") ? Runtime.getRuntime().availableProcessors() : Double.parseDouble(cpus);
    } catch (NumberFormatException e) {
      throw new ConfigException("run-cpus: not a number of cores: '" + cpus + "'");
    }
    long pids = parseInt("run-pids", v.get("run-pids"));
    long memory = parseSize("run-memory", v.get("run-memory"));
    if (cores < 0 || pids < 0) {
      throw new ConfigException("run-cpus and run-pids must not be negative");
    }
    if (memory > 0 && memory < (6L << 20)) {
      // runc itself needs a few MiB in the container's cgroup before the RUN's process starts
      throw new ConfigException("run-memory: at least 6MiB (or 0 for no limit), got '" + v.get("run-memory") + "'");
    }
    long disk = parseSize("stage-disk", v.get("stage-disk"));
    if (disk > 0 && disk < (16L << 20)) {
      throw new ConfigException("stage-disk: at least 16MiB (or 0 for no limit), got '" + v.get("stage-disk") + "'");
    }
    return new RunLimits(memory, pids, cores, disk);
  }

  private static FarmKeys farmKeys(String file) {
    if (file == null || file.isBlank()) {
      return null; // the config names the missing key, after the connection keys
    }
    try {
      return FarmKeys.load(Path.of(file)).requireFor(FarmKeys.Part.WORKER);
    } catch (IOException e) {
      throw new ConfigException("cannot read farm-key-file " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage(), e);
    }
  }

  private static Map<String, String> readYaml(Path file) {
    Object doc;
    try (Reader reader = Files.newBufferedReader(file)) {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage(), e);
    }
    if (doc == null) {
      return Map.of();
    }
    if (!(doc instanceof Map<?, ?> map)) {
      throw new ConfigException("config file " + file + " must be a mapping of key: value");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (key.equals(REMOVED_SECRETS_DIR)) {
        throw new ConfigException("config file " + file + ": '" + key + "' was removed: build secrets come from the"
            + " client of each build (stagefarm build --secret), never from a worker's files (docs/security.md)");
      }
      if (KEYS.stream().noneMatch(k -> k.name().equals(key))) {
        throw new ConfigException("config file " + file + ": unknown key '" + key + "' (see docs/configuration.md)");
      }
      out.put(key, e.getValue() == null ? "" : String.valueOf(e.getValue()));
    }
    return out;
  }

  /** Strict: a typo must not silently leave a security setting at the other value. */
  private static boolean parseBoolean(String key, String value) {
    return switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(key + ": not true or false: '" + value + "'");
    };
  }

  private static int parseInt(String key, String value) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": not a number: '" + value + "'");
    }
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|B|KiB|MiB|GiB|TiB|K|M|G|T|KB|MB|GB|TB)", Pattern.CASE_INSENSITIVE);

  /** "500ms", "5s", "2m", "1h" or an ISO-8601 duration ("PT5S"). */
  public static Duration parseDuration(String key, String value) {
    String s = value.strip();
    Matcher m = DURATION.matcher(s);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    try {
      return Duration.parse(s);
    } catch (RuntimeException e) {
      throw new ConfigException(key + ": not a duration: '" + value + "' (e.g. 500ms, 5s, 2m)");
    }
  }

  /** Bytes: "1048576", "512KiB", "10GiB" (K/M/G/T and KB/MB/… are binary too). */
  static long parseSize(String key, String value) {
    Matcher m = SIZE.matcher(value.strip());
    if (!m.matches()) {
      throw new ConfigException(key + ": not a size: '" + value + "' (e.g. 512MiB, 10GiB)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2).toUpperCase(Locale.ROOT);
    int shift = unit.isEmpty() || unit.equals("B") ? 0 : switch (unit.charAt(0)) {
      case 'K' -> 10;
      case 'M' -> 20;
      case 'G' -> 30;
      default -> 40;
    };
    return n << shift;
  }
}
