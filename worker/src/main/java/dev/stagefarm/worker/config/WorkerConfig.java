package dev.stagefarm.worker.config;

import dev.stagefarm.worker.runtime.RunLimits;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.oci.store.S3Credentials;
import dev.stagefarm.program.KafkaClientProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import dev.stagefarm.oci.Platform;

/**
 * Everything a worker needs, with defaults in code. Built by {@link WorkerConfigLoader} from a
 * YAML file, environment variables and command-line flags (docs/configuration.md lists every key),
 * or directly by code that embeds workers (the all-in-one farm, tests).
 *
 * @param kafka Kafka bootstrap servers ({@code host:port[,host:port]})
 * @param s3Endpoint the S3 endpoint URL of the content store
 * @param s3AccessKey S3 access key
 * @param s3SecretKey S3 secret key
 * @param s3Region S3 region (MinIO and S3Proxy ignore it)
 * @param bucket the content-store bucket
 * @param workDir local state: layer cache, stage scratch, cache mounts, runc state
 * @param concurrency stages executed at once
 * @param workerId names this worker in events and logs
 * @param shareGroup the Kafka share group workers join
 * @param heartbeatInterval how often a running stage heartbeats on the events topic
 * @param pollTimeout the task consumers' poll timeout (bounds lock-renewal latency)
 * @param shutdownGrace how long a graceful shutdown lets running stages finish
 * @param layerCacheBytes size bound of the extracted-layer cache
 * @param network network of {@code RUN --network=default}: {@code sandbox} (own namespace, outbound
 *     access through slirp4netns, worker host and link-local unreachable), {@code none} (loopback only)
 *     or {@code host} (the worker host's namespace: needs {@code allowHostNetwork}); "default" means sandbox
 * @param runc the runc binary
 * @param logRateBytesPerSecond RUN output streamed per stage per second; the rest is dropped
 * @param logMaxBytes RUN output streamed per stage in total; the rest is dropped
 * @param addUrlMaxBytes the most one {@code ADD <url>} may download; more fails the stage naming the limit
 * @param createTopics create the topics and share-group config at start when missing
 * @param allowInsecure run {@code RUN --security=insecure} with every capability (BuildKit's
 *     {@code security.insecure} entitlement); false: such a RUN fails the stage
 * @param faultPause how long a slot stops claiming tasks after a stage failed on an
 *     infrastructure fault here (disk, S3, runtime), so the retry goes to a healthy worker
 * @param runLimits memory, pids and CPU cgroup limits of every RUN ({@code run-memory},
 *     {@code run-pids}, {@code run-cpus}); a RUN that hits one fails naming the setting
 * @param allowHostNetwork run {@code RUN --network=host} in the worker host's network namespace
 *     (BuildKit's {@code network.host} entitlement); false: such a RUN fails the stage
 * @param farmKeys the farm's keys (held by the coordinator and the workers only): tasks and cache
 *     records without their MAC are refused, events and cache records written here carry it
 * @param kafkaSecurity SASL/TLS settings of every Kafka client of this worker ({@code
 *     kafka-properties}; docs/security.md, "Kafka")
 * @param s3Credentials how S3 requests are signed ({@code s3-credentials}); null: the static keys
 * @param platforms the platforms whose stages this worker takes ({@code platforms}; default: the
 *     host's): it consumes their task topics (docs/protocol.md, "Platforms")
 */
public record WorkerConfig(
    String kafka,
    String s3Endpoint,
    String s3AccessKey,
    String s3SecretKey,
    String s3Region,
    String bucket,
    Path workDir,
    int concurrency,
    String workerId,
    String shareGroup,
    Duration heartbeatInterval,
    Duration pollTimeout,
    Duration shutdownGrace,
    long layerCacheBytes,
    String network,
    String runc,
    long logRateBytesPerSecond,
    long logMaxBytes,
    long addUrlMaxBytes,
    boolean createTopics,
    boolean allowInsecure,
    Duration faultPause,
    RunLimits runLimits,
    boolean allowHostNetwork,
    FarmKeys farmKeys,
    KafkaClientProperties kafkaSecurity,
    S3Credentials s3Credentials,
    List<Platform> platforms) {

  public WorkerConfig {
    require(kafka, "kafka");
    require(s3Endpoint, "s3");
    require(bucket, "bucket");
    if (workDir == null) {
      throw new ConfigException("work-dir is required");
    }
    if (concurrency < 1) {
      throw new ConfigException("concurrency must be at least 1, got " + concurrency);
    }
    network = network.toLowerCase(Locale.ROOT);
    if (network.equals("default")) {
      network = "sandbox";
    }
    if (!network.equals("sandbox") && !network.equals("none") && !network.equals("host")) {
      throw new ConfigException("network must be sandbox, none or host, got " + network);
    }
    if (network.equals("host") && !allowHostNetwork) {
      throw new ConfigException("network: host gives every RUN the worker host's network (its Kafka, S3 and"
          + " coordinator ports); it needs allow-host-network: true");
    }
    if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
      throw new ConfigException("heartbeat-interval must be positive");
    }
    if (faultPause.isNegative()) {
      throw new ConfigException("fault-pause must not be negative");
    }
    if (runLimits == null) {
      runLimits = defaultRunLimits();
    }
    if (farmKeys == null) {
      require(null, "farm-key-file");
    }
    if (kafkaSecurity == null) {
      kafkaSecurity = KafkaClientProperties.none();
    }
    if (s3Credentials == null) {
      s3Credentials = new S3Credentials.Static(s3AccessKey == null ? "" : s3AccessKey,
          s3SecretKey == null ? "" : s3SecretKey);
    }
    platforms = platforms == null || platforms.isEmpty() ? List.of(WorkerPlatforms.host()) : List.copyOf(platforms);
  }

  /** A config for the host's platform only. */
  public WorkerConfig(String kafka, String s3Endpoint, String s3AccessKey, String s3SecretKey, String s3Region,
      String bucket, Path workDir, int concurrency, String workerId, String shareGroup, Duration heartbeatInterval,
      Duration pollTimeout, Duration shutdownGrace, long layerCacheBytes, String network, String runc,
      long logRateBytesPerSecond, long logMaxBytes, long addUrlMaxBytes, boolean createTopics, boolean allowInsecure,
      Duration faultPause, RunLimits runLimits, boolean allowHostNetwork, FarmKeys farmKeys,
      KafkaClientProperties kafkaSecurity) {
    this(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency, workerId, shareGroup,
        heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc, logRateBytesPerSecond,
        logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHostNetwork, farmKeys,
        kafkaSecurity, null, List.of());
  }

  /** The same config taking the stages of these platforms. */
  public WorkerConfig withPlatforms(List<Platform> platforms) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits,
        allowHostNetwork, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }

  /** A config whose Kafka clients connect in plain text without authentication. */
  public WorkerConfig(String kafka, String s3Endpoint, String s3AccessKey, String s3SecretKey, String s3Region,
      String bucket, Path workDir, int concurrency, String workerId, String shareGroup, Duration heartbeatInterval,
      Duration pollTimeout, Duration shutdownGrace, long layerCacheBytes, String network, String runc,
      long logRateBytesPerSecond, long logMaxBytes, long addUrlMaxBytes, boolean createTopics, boolean allowInsecure,
      Duration faultPause, RunLimits runLimits, boolean allowHostNetwork, FarmKeys farmKeys) {
    this(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency, workerId, shareGroup,
        heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc, logRateBytesPerSecond,
        logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHostNetwork, farmKeys,
        KafkaClientProperties.none(), null, List.of());
  }

  /** A config with every optional key at its default. */
  public static WorkerConfig of(String kafka, String s3Endpoint, String accessKey, String secretKey, String bucket, Path workDir) {
    return new WorkerConfig(kafka, s3Endpoint, accessKey, secretKey, "us-east-1", bucket, workDir, 1,
        defaultWorkerId(), dev.stagefarm.proto.Topics.WORKER_SHARE_GROUP, Duration.ofSeconds(5), Duration.ofSeconds(1),
        Duration.ofSeconds(30), 10L << 30, "sandbox", "runc", 256 * 1024, 8L << 20, 2L << 30, true, false,
        Duration.ofSeconds(10), defaultRunLimits(), false, FarmKeys.generate(), KafkaClientProperties.none(), null, List.of());
  }

  /** 2 GiB of memory, 4096 processes, every core of this host. */
  public static RunLimits defaultRunLimits() {
    return new RunLimits(2L << 30, 4096, Runtime.getRuntime().availableProcessors());
  }

  public WorkerConfig withRunLimits(RunLimits limits) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, limits, allowHostNetwork, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }

  public WorkerConfig withConcurrency(int n) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, n, workerId,
        shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHostNetwork, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }

  public WorkerConfig withWorkerId(String id) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency, id,
        shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHostNetwork, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }


  public WorkerConfig withTimings(Duration heartbeat, Duration poll, Duration grace) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeat, poll, grace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHostNetwork, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }

  public WorkerConfig withAllowInsecure(boolean allow) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allow, faultPause, runLimits, allowHostNetwork, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }

  public WorkerConfig withFaultPause(Duration pause) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, pause, runLimits, allowHostNetwork, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }

  /** The same config with the farm's keys (an embedded farm's, or a test's that signs its own tasks). */
  public WorkerConfig withFarmKeys(FarmKeys keys) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHostNetwork, keys, kafkaSecurity, s3Credentials, platforms);
  }

  /** The same config with the Kafka clients' SASL/TLS settings. */
  public WorkerConfig withKafkaSecurity(KafkaClientProperties security) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHostNetwork, farmKeys,
        security, s3Credentials, platforms);
  }

  /** The same config with topic creation at start on or off (off: the farm's admin creates them). */
  public WorkerConfig withCreateTopics(boolean create) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, create, allowInsecure, faultPause, runLimits, allowHostNetwork, farmKeys,
        kafkaSecurity, s3Credentials, platforms);
  }

  /** @param network {@code sandbox}, {@code none} or {@code host} (which needs {@code allowHost}) */
  public WorkerConfig withNetwork(String network, boolean allowHost) {
    return new WorkerConfig(kafka, s3Endpoint, s3AccessKey, s3SecretKey, s3Region, bucket, workDir, concurrency,
        workerId, shareGroup, heartbeatInterval, pollTimeout, shutdownGrace, layerCacheBytes, network, runc,
        logRateBytesPerSecond, logMaxBytes, addUrlMaxBytes, createTopics, allowInsecure, faultPause, runLimits, allowHost, farmKeys, kafkaSecurity, s3Credentials, platforms);
  }

  /** {@code <hostname>-<pid>}: unique per process, readable in logs. */
  public static String defaultWorkerId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "worker";
    }
    return host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
  }

  private static void require(String value, String key) {
    if (value == null || value.isBlank()) {
      throw new ConfigException(key + " is required (flag --" + key + ", env STAGEFARM_"
          + key.toUpperCase(Locale.ROOT).replace('-', '_') + ", or the YAML file)");
    }
  }
}
