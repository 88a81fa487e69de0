package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.worker.kafka.FarmTopics;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
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
      description = "The farm key(s) shared with the workers only, one base64 key per line, the first signs"
          + " (docs/security.md). Also STAGEFARM_FARM_KEY_FILE.")
  Path farmKeyFile;

  @Mixin FarmFlags farmFlags;

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
      farmKeys = FarmKeys.load(farmKeyFile);
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new UserError("cannot use the farm key file " + farmKeyFile + ": " + e.getMessage());
    }
    if (createTopics) {
      FarmTopics.ensure(kafka, FarmTopics.Layout.singleBroker());
    }
    BlobStore store = BlobStore.connect(new S3Config(s3Endpoint, s3AccessKey, s3SecretKey, bucket, null));
    store.ensureBucket();
    RegistryClient registry = new RegistryClient(farmFlags.registrySettings());
    CoordinatorNode node =
        CoordinatorNode.start(
            new CoordinatorNode.Options(
                kafka,
                "stagefarm-coordinator",
                new BuildCoordinator.Settings(
                    new Scheduler.Settings(Duration.ofSeconds(leaseSeconds), maxAttempts)
                        .withQueueLease(queueLease)
                        .withDeadlines(stageDeadline, buildDeadline),
                    Duration.ofSeconds(1)),
                farmKeys),
            store,
            registry,
            new StoreImageExporter(store),
            NettyServerBuilder.forAddress(new InetSocketAddress("0.0.0.0", port)));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      registry.close();
      store.close();
      stopped.countDown();
    }, "stagefarm-coordinator-stop"));
    System.out.println("coordinator listening on :" + node.port() + " (kafka " + kafka + ", s3 " + s3Endpoint + ")");
    stopped.await();
    return 0;
  }
}
