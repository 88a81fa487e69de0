package dev.stagefarm.worker.config;

import static dev.stagefarm.config.CommonKeys.BUCKET;
import static dev.stagefarm.config.CommonKeys.CREATE_TOPICS;
import static dev.stagefarm.config.CommonKeys.FARM_KEY_FILE;
import static dev.stagefarm.config.CommonKeys.KAFKA;
import static dev.stagefarm.config.CommonKeys.KAFKA_PROPERTIES;
import static dev.stagefarm.config.CommonKeys.S3_ACCESS_KEY;
import static dev.stagefarm.config.CommonKeys.S3_ENDPOINT;
import static dev.stagefarm.config.CommonKeys.S3_REGION;
import static dev.stagefarm.config.CommonKeys.S3_SECRET_KEY;
import static dev.stagefarm.config.WorkerKeys.*;

import dev.stagefarm.config.CommonKeys;
import dev.stagefarm.config.ConfigLoader;
import dev.stagefarm.config.ConfigValues;
import dev.stagefarm.config.WorkerKeys;
import dev.stagefarm.oci.store.S3Credentials;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.worker.runtime.RunLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link WorkerConfig} from the worker's key table ({@link WorkerKeys#DEF}): defaults, a YAML
 * file, {@code STAGEFARM_*} environment variables and flags, loaded strictly by {@link ConfigLoader}
 * (docs/configuration.md is generated from the same table).
 */
public final class WorkerConfigLoader {
  private WorkerConfigLoader() {}

  /**
   * @param yamlFile a YAML file of {@code key: value} pairs, or null
   * @param env the environment ({@code System.getenv()})
   * @param flags keys given on the command line (only those the user set)
   */
  public static WorkerConfig load(Path yamlFile, Map<String, String> env, Map<String, String> flags) {
    return build(values(yamlFile, env, flags), env);
  }

  /** The worker's settings as loaded, for {@code --print-config}. */
  public static ConfigValues values(Path yamlFile, Map<String, String> env, Map<String, String> flags) {
    try {
      return ConfigLoader.load(WorkerKeys.DEF, yamlFile, env, flags);
    } catch (dev.stagefarm.config.ConfigException e) {
      throw new ConfigException(e.getMessage(), e);
    }
  }

  /** A worker's config of loaded settings; files the keys name (farm key, Kafka properties) are read here. */
  public static WorkerConfig build(ConfigValues v, Map<String, String> env) {
    String workerId = v.get(WORKER_ID);
    if (workerId == null || workerId.isBlank()) {
      workerId = WorkerConfig.defaultWorkerId();
    }
    double cores = v.getOrDefault(RUN_CPUS, (double) Runtime.getRuntime().availableProcessors());
    RunLimits limits = new RunLimits(v.get(RUN_MEMORY), v.get(RUN_PIDS), cores, v.get(STAGE_DISK));
    return new WorkerConfig(
        v.get(KAFKA),
        v.get(S3_ENDPOINT),
        v.getOrDefault(S3_ACCESS_KEY, ""),
        v.getOrDefault(S3_SECRET_KEY, ""),
        v.get(S3_REGION),
        v.get(BUCKET),
        v.get(WORK_DIR),
        v.get(CONCURRENCY),
        workerId,
        v.get(SHARE_GROUP),
        v.get(HEARTBEAT_INTERVAL),
        v.get(POLL_TIMEOUT),
        v.get(SHUTDOWN_GRACE),
        v.get(LAYER_CACHE_SIZE),
        v.get(NETWORK),
        v.get(RUNC),
        v.get(LOG_RATE),
        v.get(LOG_MAX),
        v.get(ADD_URL_MAX_SIZE),
        v.get(CREATE_TOPICS),
        v.get(ALLOW_INSECURE),
        v.get(FAULT_PAUSE),
        limits,
        v.get(ALLOW_HOST_NETWORK),
        farmKeys(v.get(FARM_KEY_FILE)),
        kafkaSecurity(v.get(KAFKA_PROPERTIES)),
        s3Credentials(v, env),
        platforms(v.get(PLATFORMS)));
  }

  private static List<Platform> platforms(String value) {
    return value == null || value.isBlank()
        ? List.of(WorkerPlatforms.host()) : WorkerPlatforms.parse(value, WorkerPlatforms.BINFMT_MISC);
  }

  /**
   * The S3 credentials the keys ask for ({@code s3-credentials} and the keys of its source); shared with
   * the coordinator, whose table has the same keys.
   */
  public static S3Credentials s3Credentials(ConfigValues v, Map<String, String> env) {
    try {
      return new S3Credentials.Request(v.get(CommonKeys.S3_CREDENTIALS), v.get(S3_ACCESS_KEY), v.get(S3_SECRET_KEY),
          v.get(CommonKeys.S3_CREDENTIALS_FILE), v.get(CommonKeys.S3_PROFILE),
          v.get(CommonKeys.S3_WEB_IDENTITY_TOKEN_FILE), v.get(CommonKeys.S3_ROLE_ARN),
          v.get(CommonKeys.S3_STS_ENDPOINT), v.get(S3_REGION))
          .resolve(env, Path.of(System.getProperty("user.home")));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage(), e);
    }
  }

  private static KafkaClientProperties kafkaSecurity(Path file) {
    if (file == null) {
      return KafkaClientProperties.none();
    }
    try {
      return KafkaClientProperties.load(file);
    } catch (IOException e) {
      throw new ConfigException("cannot read kafka-properties " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("kafka-properties: " + e.getMessage(), e);
    }
  }

  private static FarmKeys farmKeys(Path file) {
    try {
      return FarmKeys.load(file).requireFor(FarmKeys.Part.WORKER);
    } catch (IOException e) {
      throw new ConfigException("cannot read farm-key-file " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage(), e);
    }
  }

  /** "500ms", "5s", "2m", "1h" or an ISO-8601 duration ("PT5S"). */
  public static Duration parseDuration(String key, String value) {
    try {
      return dev.stagefarm.config.ConfigType.DURATION.parse().apply(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key + ": '" + value + "' is " + e.getMessage());
    }
  }
}
