package dev.stagefarm.cli;

import dev.stagefarm.cli.ops.ObservabilityServer;
import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.metrics.WorkerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import dev.stagefarm.worker.config.ConfigException;
import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.config.WorkerConfigLoader;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code stagefarm worker}: one worker against an external Kafka and S3. Every option also comes
 * from a {@code STAGEFARM_*} environment variable or the YAML file of {@code --config}; flags win,
 * then the environment, then the file (docs/configuration.md).
 */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = "Run a worker: take stage tasks from Kafka, execute them with runc, upload layers to S3.")
public final class WorkerCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "YAML file of worker settings.")
  Path configFile;

  @Option(names = "--kafka", paramLabel = "HOST:PORT[,…]", description = "Kafka bootstrap servers.")
  String kafka;

  @Option(names = {"--s3", "--s3-endpoint"}, paramLabel = "URL", description = "S3 endpoint of the content store.")
  String s3;

  @Option(names = "--s3-access-key", paramLabel = "KEY")
  String s3AccessKey;

  @Option(names = "--s3-secret-key", paramLabel = "KEY")
  String s3SecretKey;

  @Option(names = "--s3-region", paramLabel = "REGION")
  String s3Region;

  @Option(names = "--bucket", paramLabel = "NAME")
  String bucket;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Layer cache, stage scratch, runc state.")
  String workDir;

  @Option(names = "--concurrency", paramLabel = "N", description = "Stages executed at once.")
  String concurrency;

  @Option(names = "--worker-id", paramLabel = "ID")
  String workerId;

  @Option(names = "--network", paramLabel = "sandbox|none|host",
      description = "Network of RUN --network=default (host needs --set allow-host-network=true).")
  String network;


  @Option(names = "--layer-cache-size", paramLabel = "SIZE", description = "e.g. 10GiB")
  String layerCacheSize;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any other key of docs/configuration.md.")
  Map<String, String> extra = new LinkedHashMap<>();

  @Override
  public Integer call() throws Exception {
    Map<String, String> flags = new LinkedHashMap<>(extra);
    put(flags, "kafka", kafka);
    put(flags, "s3", s3);
    put(flags, "s3-access-key", s3AccessKey);
    put(flags, "s3-secret-key", s3SecretKey);
    put(flags, "s3-region", s3Region);
    put(flags, "bucket", bucket);
    put(flags, "work-dir", workDir);
    put(flags, "concurrency", concurrency);
    put(flags, "worker-id", workerId);
    put(flags, "network", network);
    put(flags, "layer-cache-size", layerCacheSize);
    WorkerConfig config;
    Observability observability;
    try {
      Map<String, String> values = WorkerConfigLoader.resolve(configFile, System.getenv(), flags);
      observability = Observability.parse(values.get(WorkerConfigLoader.METRICS_LISTEN),
          values.get(WorkerConfigLoader.LOG_FORMAT));
      config = WorkerConfigLoader.load(configFile, System.getenv(), flags);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
    MeterRegistry registry = observability.newRegistry();
    Worker worker = new Worker(config, new WorkerMetrics(registry));
    // serving before the start: a starting worker answers /readyz with 503
    ObservabilityServer metrics = observability.serve(registry, worker::whyNotLive, worker::whyNotReady);
    try {
      worker.start();
    } catch (RuntimeException e) {
      if (metrics != null) {
        metrics.close();
      }
      throw new UserError(e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.close(); // graceful: running stages finish or are released to other workers
      if (metrics != null) {
        metrics.close();
      }
      stopped.countDown();
    }, "stagefarm-worker-stop"));
    if (metrics != null) {
      System.err.println("metrics on http://" + observability.describe(metrics) + "/metrics");
    }
    System.err.println("stagefarm worker " + worker.id() + " running (" + config.concurrency() + " slot(s)); Ctrl-C stops it");
    stopped.await();
    return 0;
  }

  private static void put(Map<String, String> flags, String key, String value) {
    if (value != null) {
      flags.put(key, value);
    }
  }
}
