package dev.stagefarm.config;

import static dev.stagefarm.config.ConfigType.INT;
import static dev.stagefarm.config.ConfigType.PATH;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code stagefarm up}: the all-in-one farm's own keys, the coordinator's API and registry keys, and
 * the metrics endpoint and log format.
 */
public final class UpKeys {
  private UpKeys() {}

  public static final ConfigKey<Integer> WORKERS = ConfigKey.of("workers", INT, "number of in-process workers")
      .defaultValue("2").validate(Validator.atLeast(1));

  public static final ConfigKey<Path> DATA = ConfigKey.of("data", PATH,
      "data directory: content store, `kafka/`, worker dirs, `farm.key`")
      .computedDefault("`$STAGEFARM_HOME`, else `~/.cache/stagefarm`").label("DIR");

  public static final List<ConfigKey<?>> OWN = List.of(WORKERS, DATA);

  /**
   * The process's one metrics endpoint (the coordinator's and every worker's meters), its log format and its
   * trace export (the coordinator's spans as {@code stagefarm-coordinator}, the workers' as {@code
   * stagefarm-worker}: no service name key).
   */
  public static final List<ConfigKey<?>> OBSERVABILITY = List.of(CommonKeys.METRICS_LISTEN, CommonKeys.LOG_FORMAT,
      CommonKeys.OTEL_ENDPOINT, CommonKeys.OTEL_HEADERS, CommonKeys.OTEL_SAMPLING_RATIO, CommonKeys.OTEL_TIMEOUT);

  public static final ConfigDef DEF =
      ConfigDef.of("up", List.of(OWN, CoordinatorKeys.API, CoordinatorKeys.REGISTRY, OBSERVABILITY));
}
