package dev.stagefarm.cli;

import static dev.stagefarm.config.CoordinatorKeys.*;

import dev.stagefarm.cli.farm.ApiServerSettings;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.cli.ops.ObservabilityServer;
import dev.stagefarm.cli.ops.Traces;
import dev.stagefarm.config.CommonKeys;
import dev.stagefarm.config.ConfigLoader;
import dev.stagefarm.config.ConfigValues;
import dev.stagefarm.coordinator.schedule.SchedulingPolicy;
import dev.stagefarm.config.CoordinatorKeys;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.trace.BuildTracing;
import dev.stagefarm.coordinator.Retention;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreCollector;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.worker.config.WorkerConfigLoader;
import dev.stagefarm.worker.kafka.FarmTopics;
import io.grpc.ServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code stagefarm coordinator}: one coordinator against an external Kafka and S3. Its settings are the
 * keys of {@link CoordinatorKeys#DEF}: flags, {@code STAGEFARM_*} variables, the YAML file of {@code --config}.
 */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    modelTransformer = CoordinatorCommand.Options.class,
    description = "Run a coordinator against an external Kafka and S3 (see docs/configuration.md).")
public final class CoordinatorCommand implements Callable<Integer> {

  /** The coordinator's flags, one per key of its table. */
  public static final class Options implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      return ConfigOptions.addTo(spec, CoordinatorKeys.DEF);
    }
  }

  @Spec CommandSpec spec;

  /** The scheduling keys (docs/operations.md, "Scheduling"); IllegalArgumentException names a bad entry. */
  static SchedulingPolicy schedulingPolicy(ConfigValues v) {
    return new SchedulingPolicy(
        SchedulingPolicy.namedNumbers("tenant-weight", v.getOrDefault(TENANT_WEIGHT, List.of())),
        v.get(MAX_PRIORITY),
        SchedulingPolicy.namedNumbers("tenant-max-priority", v.getOrDefault(TENANT_MAX_PRIORITY, List.of())),
        v.get(MAX_QUEUED_STAGES_PER_TENANT), v.get(MAX_QUEUED_STAGES), v.get(DISPATCH_MARGIN),
        v.get(UNREPORTED_CAPACITY), v.get(METRICS_MAX_TENANTS));
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> env = System.getenv();
    ConfigOptions.Given given = ConfigOptions.given(spec, CoordinatorKeys.DEF);
    ConfigValues v;
    try {
      v = ConfigLoader.load(CoordinatorKeys.DEF, given.file(), env, given.flags());
    } catch (dev.stagefarm.config.ConfigException e) {
      throw new UserError(e.getMessage());
    }
    if (given.printConfig()) {
      ConfigOptions.print(v, System.out);
      return 0;
    }
    S3Config s3;
    try {
      s3 = new S3Config(v.get(CommonKeys.S3_ENDPOINT), WorkerConfigLoader.s3Credentials(v, env), v.get(CommonKeys.BUCKET),
          v.get(CommonKeys.S3_REGION));
    } catch (IllegalArgumentException | dev.stagefarm.config.ConfigException e) {
      throw new UserError(e.getMessage());
    }
    SchedulingPolicy scheduling;
    try {
      scheduling = schedulingPolicy(v);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    Path farmKeyFile = v.get(CommonKeys.FARM_KEY_FILE);
    FarmKeys farmKeys;
    try {
      farmKeys = FarmKeys.load(farmKeyFile).requireFor(FarmKeys.Part.COORDINATOR);
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new UserError("cannot use the farm key file " + farmKeyFile + ": " + e.getMessage());
    }
    Observability observability = Observability.parse(v.get(CommonKeys.METRICS_LISTEN), v.get(CommonKeys.LOG_FORMAT))
        .withTraces(v, System.getenv());
    KafkaClientProperties kafkaSecurity = KafkaPropertiesFlag.load(v.get(CommonKeys.KAFKA_PROPERTIES));
    String kafka = v.get(CommonKeys.KAFKA);
    int port = v.get(PORT);
    // checked before anything starts: a refused bind or an unreadable certificate is the operator's to fix
    ApiServerSettings.Listener listener = ApiServerSettings.of(v).listener(port);
    ServerBuilder<?> server = listener.serverBuilder();
    if (v.get(CommonKeys.CREATE_TOPICS)) {
      try {
        FarmTopics.ensure(kafka, kafkaSecurity, FarmTopics.Layout.singleBroker());
      } catch (FarmTopics.KafkaSetupException e) {
        throw new UserError(e.getMessage(), e);
      }
    }
    S3BlobStore store = BlobStore.connect(s3);
    store.ensureBucket();
    RegistryClient registry = new RegistryClient(FarmFlags.registrySettings(
        v.getOrDefault(INSECURE_REGISTRY, List.of()), v.getOrDefault(REGISTRY_MIRROR, List.of())));
    String advertise = v.get(ADVERTISE);
    CoordinatorNode node;
    try {
      node =
          CoordinatorNode.start(
              new CoordinatorNode.Options(
                  kafka,
                  v.get(GROUP),
                  new BuildCoordinator.Settings(
                      new Scheduler.Settings(v.get(LEASE_TIMEOUT), v.get(MAX_ATTEMPTS))
                          .withQueueLease(v.get(QUEUE_LEASE))
                          .withDeadlines(v.get(STAGE_DEADLINE), v.get(BUILD_DEADLINE)),
                      Duration.ofSeconds(1))
                      .withRetention(new Retention(v.get(BUILD_RETENTION), v.get(SUMMARY_RETENTION),
                          v.get(MAX_SUMMARIES), Duration.ofSeconds(30)))
                      .withScheduling(scheduling),
                  farmKeys,
                  advertise != null ? advertise : java.net.InetAddress.getLocalHost().getHostName() + ":" + port,
                  v.get(ELECTION_SESSION),
                  kafkaSecurity)
                  .withRegistryCredentialsFallback(v.get(REGISTRY_CREDENTIALS_FALLBACK)),
              store,
              registry,
              new StoreImageExporter(store),
              server,
              listener.security());
    } catch (java.io.IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        // stopped while joining the leader election (tests stop it so): a clean stop, not a failure
        registry.close();
        store.close();
        return 0;
      }
      throw e;
    }
    Traces traces = observability.startTraces();
    if (traces.enabled()) {
      node.traceTo(BuildTracing.with(traces.role(Traces.COORDINATOR)));
    }
    ObservabilityServer metrics;
    try {
      MeterRegistry meters = observability.newRegistry();
      node.reportTo(meters);
      metrics = observability.serve(meters, node::whyNotLive, node::whyNotReady);
    } catch (UserError e) {
      node.close();
      registry.close();
      store.close();
      traces.close();
      throw e;
    }
    StoreCollector.Policy gcPolicy = new StoreCollector.Policy(v.get(GC_KEEP_DURATION), v.get(GC_GRACE));
    node.gcPolicy(gcPolicy); // `stagefarm prune` uses it too
    Duration gcInterval = v.get(GC_INTERVAL);
    if (gcInterval.isPositive()) {
      node.collectGarbageEvery(gcInterval, gcPolicy);
    }
    Runnable stop = () -> {
      if (metrics != null) {
        metrics.close();
      }
      node.close();
      registry.close();
      store.close();
      traces.close(); // last: the builds' spans ended with the node
    };
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stop.run();
      stopped.countDown();
    }, "stagefarm-coordinator-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    System.out.println("coordinator listening on " + listener.address().getAddress().getHostAddress() + ":"
        + node.port() + " (" + listener.describe() + "; kafka " + kafka + ", s3 " + s3.endpoint() + " as "
        + s3.credentials().describe() + "), " + (node.isActive() ? "active" : "standby"));
    if (metrics != null) {
      System.out.println("metrics on http://" + observability.describe(metrics) + "/metrics");
    }
    observability.traces().ifPresent(t -> System.out.println("traces to " + t.describe()));
    System.out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      // stopped from within this JVM (tests): stop as the hook would
      Runtime.getRuntime().removeShutdownHook(hook);
      stop.run();
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
