package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.ApiServerFlags;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.Retention;
import dev.stagefarm.coordinator.store.StoreCollector;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.worker.kafka.FarmTopics;
import io.grpc.ServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stagefarm coordinator}: one coordinator against an external Kafka and S3. */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = "Run a coordinator against an external Kafka and S3 (see docs/configuration.md).")
public final class CoordinatorCommand implements Callable<Integer> {
  @Option(names = "--kafka", required = true, paramLabel = "HOST:PORT[,…]", description = "Kafka bootstrap servers.")
  String kafka;

  @Option(names = "--s3-endpoint", required = true, paramLabel = "URL")
  String s3Endpoint;

  @Option(names = "--s3-access-key", defaultValue = "${env:STAGEFARM_S3_ACCESS_KEY}", paramLabel = "KEY")
  String s3AccessKey;

  @Option(names = "--s3-secret-key", defaultValue = "${env:STAGEFARM_S3_SECRET_KEY}", paramLabel = "KEY")
  String s3SecretKey;

  @Option(names = "--bucket", defaultValue = "stagefarm")
  String bucket;

  @Option(names = "--port", defaultValue = "7070", description = "gRPC port (default: 7070).")
  int port;

  @Option(names = "--group", defaultValue = "stagefarm-coordinator", paramLabel = "NAME",
      description = "The farm's coordinator group: every coordinator of one farm uses the same; it names their"
          + " event consumer group, leader election (NAME-leader) and transactional id (default: stagefarm-coordinator).")
  String group;

  @Option(names = "--advertise", paramLabel = "HOST:PORT",
      description = "The address clients reach this coordinator at; standbys name the active one's to clients"
          + " (default: this host's name and --port).")
  String advertise;

  @Option(names = "--election-session", defaultValue = "6", paramLabel = "SECONDS",
      description = "A silent active coordinator is replaced by a standby after this long (default: 6, the"
          + " broker's group.min.session.timeout.ms by default).")
  int electionSessionSeconds;

  @Option(names = "--lease-timeout", defaultValue = "30", paramLabel = "SECONDS",
      description = "Re-publish a running stage after this long without a heartbeat (default: 30).")
  int leaseSeconds;

  @Option(names = "--max-attempts", defaultValue = "3", description = "Attempts per stage before the build fails (default: 3).")
  int maxAttempts;

  @Option(names = "--queue-lease", defaultValue = "15m", converter = DurationConverter.class, paramLabel = "DURATION",
      description = "Publish a task again when no worker started it within this; after --max-attempts the build"
          + " fails (default: 15m).")
  Duration queueLease;

  @Option(names = "--stage-deadline", defaultValue = "1h", converter = DurationConverter.class, paramLabel = "DURATION",
      description = "How long one run of a stage may take; the worker kills it after that and the build fails"
          + " (default: 1h).")
  Duration stageDeadline;

  @Option(names = "--build-deadline", defaultValue = "3h", converter = DurationConverter.class, paramLabel = "DURATION",
      description = "How long a build may take from its submission (default: 3h).")
  Duration buildDeadline;

  @Option(names = "--create-topics", defaultValue = "true", negatable = true, description = "Create the topics if missing.")
  boolean createTopics;

  @Option(names = "--farm-key-file", defaultValue = "${env:STAGEFARM_FARM_KEY_FILE}", paramLabel = "FILE",
      description = "The coordinator's farm keys: its coordinator-private and the workers' worker-public keys"
          + " (stagefarm admin farm-keys), or the key(s) shared with the workers (docs/security.md)."
          + " Also STAGEFARM_FARM_KEY_FILE.")
  Path farmKeyFile;

  @Option(names = "--build-retention", defaultValue = "3600", paramLabel = "SECONDS",
      description = "Keep a finished build's details (stages, progress, journal record) this long (default: 3600).")
  long buildRetentionSeconds;

  @Option(names = "--summary-retention", defaultValue = "604800", paramLabel = "SECONDS",
      description = "Then keep its summary this long (default: 604800, a week).")
  long summaryRetentionSeconds;

  @Option(names = "--max-summaries", defaultValue = "10000", description = "Keep at most this many summaries (default: 10000).")
  int maxSummaries;

  @Option(names = "--gc-interval", defaultValue = "0", paramLabel = "SECONDS",
      description = "Collect garbage in the content store this often; 0: never (default: 0).")
  long gcIntervalSeconds;

  @Option(names = "--gc-keep-duration", defaultValue = "604800", paramLabel = "SECONDS",
      description = "GC deletes cache records written longer ago than this (default: 604800, a week).")
  long gcKeepSeconds;

  @Option(names = "--gc-grace", defaultValue = "21600", paramLabel = "SECONDS",
      description = "GC keeps unreferenced objects younger than this (default: 21600, six hours).")
  long gcGraceSeconds;

  @Mixin FarmFlags farmFlags;

  @Mixin KafkaPropertiesFlag kafkaProperties;

  @Mixin ApiServerFlags api;

  @Override
  public Integer call() throws Exception {
    if (s3AccessKey == null || s3SecretKey == null) {
      throw new UserError("S3 credentials missing: --s3-access-key/--s3-secret-key or STAGEFARM_S3_ACCESS_KEY/STAGEFARM_S3_SECRET_KEY");
    }
    if (farmKeyFile == null) {
      throw new UserError("farm key missing: --farm-key-file or STAGEFARM_FARM_KEY_FILE (the workers' farm-key-file;"
          + " see docs/security.md)");
    }
    FarmKeys farmKeys;
    try {
      farmKeys = FarmKeys.load(farmKeyFile).requireFor(FarmKeys.Part.COORDINATOR);
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new UserError("cannot use the farm key file " + farmKeyFile + ": " + e.getMessage());
    }
    KafkaClientProperties kafkaSecurity = kafkaProperties.load();
    // checked before anything starts: a refused bind or an unreadable certificate is the operator's to fix
    ApiServerFlags.Listener listener = api.listener(port);
    ServerBuilder<?> server = listener.serverBuilder();
    if (createTopics) {
      try {
        FarmTopics.ensure(kafka, kafkaSecurity, FarmTopics.Layout.singleBroker());
      } catch (FarmTopics.KafkaSetupException e) {
        throw new UserError(e.getMessage(), e);
      }
    }
    BlobStore store = BlobStore.connect(new S3Config(s3Endpoint, s3AccessKey, s3SecretKey, bucket, null));
    store.ensureBucket();
    RegistryClient registry = new RegistryClient(farmFlags.registrySettings());
    CoordinatorNode node;
    try {
      node =
          CoordinatorNode.start(
              new CoordinatorNode.Options(
                  kafka,
                  group,
                  new BuildCoordinator.Settings(
                      new Scheduler.Settings(Duration.ofSeconds(leaseSeconds), maxAttempts)
                          .withQueueLease(queueLease)
                          .withDeadlines(stageDeadline, buildDeadline),
                      Duration.ofSeconds(1))
                      .withRetention(new Retention(Duration.ofSeconds(buildRetentionSeconds),
                          Duration.ofSeconds(summaryRetentionSeconds), maxSummaries, Duration.ofSeconds(30))),
                  farmKeys,
                  advertise != null ? advertise : java.net.InetAddress.getLocalHost().getHostName() + ":" + port,
                  Duration.ofSeconds(electionSessionSeconds),
                  kafkaSecurity),
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
    StoreCollector.Policy gcPolicy =
        new StoreCollector.Policy(Duration.ofSeconds(gcKeepSeconds), Duration.ofSeconds(gcGraceSeconds));
    node.gcPolicy(gcPolicy); // `stagefarm prune` uses it too
    if (gcIntervalSeconds > 0) {
      node.collectGarbageEvery(Duration.ofSeconds(gcIntervalSeconds), gcPolicy);
    }
    Runnable stop = () -> {
      node.close();
      registry.close();
      store.close();
    };
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stop.run();
      stopped.countDown();
    }, "stagefarm-coordinator-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    System.out.println("coordinator listening on " + listener.address().getAddress().getHostAddress() + ":"
        + node.port() + " (" + listener.describe() + "; kafka " + kafka + ", s3 " + s3Endpoint + "), "
        + (node.isActive() ? "active" : "standby"));
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
