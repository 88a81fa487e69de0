package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.grpc.BuildServiceImpl;
import dev.stagefarm.coordinator.grpc.CoordinatorServer;
import dev.stagefarm.coordinator.grpc.ImageExporter;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.kafka.KafkaBuildJournal;
import dev.stagefarm.coordinator.kafka.KafkaEventStream;
import dev.stagefarm.coordinator.kafka.KafkaTaskQueue;
import dev.stagefarm.coordinator.plan.DockerfilePlanner;
import dev.stagefarm.coordinator.store.OffloadingTaskQueue;
import dev.stagefarm.coordinator.store.RegistryBaseImages;
import dev.stagefarm.coordinator.store.RegistryImagePusher;
import dev.stagefarm.coordinator.store.S3BuildSecretStore;
import dev.stagefarm.coordinator.store.S3CacheRecords;
import dev.stagefarm.coordinator.store.S3ContentStore;
import dev.stagefarm.coordinator.store.StoreCollector;
import dev.stagefarm.coordinator.store.StoredImageAssembler;
import dev.stagefarm.oci.registry.BaseImageFetcher;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator: Kafka task queue, event stream and build journal, the planner over the
 * content store and registries, the scheduler, and the gRPC BuildService on the given server.
 * On start it replays the journal and resumes the builds that were in flight.
 */
public final class CoordinatorNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorNode.class);

  /**
   * @param eventGroup the consumer group of this coordinator on the event topic
   * @param farmKeys the keys shared with the workers only: tasks are signed with them, events and
   *     cache records are trusted only when they verify (docs/security.md, "Farm parts")
   * @param kafkaSecurity SASL/TLS settings of every Kafka client of this coordinator (its own
   *     principal; docs/security.md, "Kafka")
   */
  public record Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings,
      FarmKeys farmKeys, KafkaClientProperties kafkaSecurity) {
    public Options {
      kafkaSecurity = kafkaSecurity == null ? KafkaClientProperties.none() : kafkaSecurity;
    }

    /** Plain-text Kafka without authentication. */
    public Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings, FarmKeys farmKeys) {
      this(kafkaBootstrap, eventGroup, settings, farmKeys, KafkaClientProperties.none());
    }
  }

  private final KafkaTaskQueue tasks;
  private final KafkaBuildJournal journal;
  private final BuildCoordinator coordinator;
  private final KafkaEventStream events;
  private final CoordinatorServer server;
  private final BlobStore store;
  private final FarmKeys farmKeys;
  private final java.util.concurrent.ScheduledExecutorService gcTimer =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("stagefarm-gc").factory());

  private CoordinatorNode(
      KafkaTaskQueue tasks,
      KafkaBuildJournal journal,
      BuildCoordinator coordinator,
      KafkaEventStream events,
      CoordinatorServer server,
      BlobStore store,
      FarmKeys farmKeys) {
    this.store = store;
    this.farmKeys = farmKeys;
    this.tasks = tasks;
    this.journal = journal;
    this.coordinator = coordinator;
    this.events = events;
    this.server = server;
  }

  /** Without client authentication (loopback and in-process farms). */
  public static CoordinatorNode start(
      Options options,
      BlobStore store,
      RegistryClient registry,
      ImageExporter exporter,
      ServerBuilder<?> serverBuilder)
      throws IOException {
    return start(options, store, registry, exporter, serverBuilder, ApiSecurity.open());
  }

  /**
   * @param serverBuilder built with {@code security}'s server credentials (TLS) by the caller
   * @param security who may call the BuildService and how many builds each may have running
   */
  public static CoordinatorNode start(
      Options options,
      BlobStore store,
      RegistryClient registry,
      ImageExporter exporter,
      ServerBuilder<?> serverBuilder,
      ApiSecurity security)
      throws IOException {
    KafkaTaskQueue tasks = new KafkaTaskQueue(options.kafkaBootstrap(), options.kafkaSecurity(), options.farmKeys());
    KafkaBuildJournal journal = new KafkaBuildJournal(options.kafkaBootstrap(), options.kafkaSecurity());
    S3ContentStore content = new S3ContentStore(store);
    BuildCoordinator coordinator =
        new BuildCoordinator(
            Clock.systemUTC(),
            options.settings(),
            new OffloadingTaskQueue(tasks, content, OffloadingTaskQueue.INLINE_LIMIT),
            journal,
            new DockerfilePlanner(
                content,
                new S3CacheRecords(store, options.farmKeys()),
                new RegistryBaseImages(new BaseImageFetcher(registry, store), store)),
            new StoredImageAssembler(store, new RegistryImagePusher(registry, store)),
            new S3BuildSecretStore(store, options.farmKeys()));
    int resumed = coordinator.resumeFromJournal();
    if (resumed > 0) {
      log.info("resumed {} build(s) after a restart", resumed);
    }
    KafkaEventStream events =
        new KafkaEventStream(options.kafkaBootstrap(), options.kafkaSecurity(), options.eventGroup(), options.farmKeys(),
            coordinator::onEvent).start();
    CoordinatorServer server =
        new CoordinatorServer(
                serverBuilder,
                new BuildServiceImpl(coordinator, content, exporter, security.maxUnfinishedBuildsPerClient()),
                security)
            .start();
    return new CoordinatorNode(tasks, journal, coordinator, events, server, store, options.farmKeys());
  }

  /**
   * One garbage collection of the content store with this coordinator's builds as roots
   * (docs/operations.md, "Garbage collection").
   */
  public StoreCollector.Report collectGarbage(StoreCollector.Policy policy, boolean dryRun) throws IOException {
    return new StoreCollector(store, farmKeys, policy, Clock.systemUTC())
        .collect(coordinator::contentRoots, dryRun);
  }

  /** Collects garbage every {@code interval}; a failed run is logged and the next one tries again. */
  public void collectGarbageEvery(java.time.Duration interval, StoreCollector.Policy policy) {
    long millis = interval.toMillis();
    gcTimer.scheduleWithFixedDelay(() -> {
      try {
        collectGarbage(policy, false);
      } catch (IOException | RuntimeException e) {
        log.warn("content store gc failed (nothing more is deleted until the next run): {}", e.toString());
      }
    }, millis, millis, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** Events ignored so far for a missing or invalid farm MAC. */
  public long unauthenticatedEvents() {
    return events.unauthenticatedEvents();
  }

  public BuildCoordinator coordinator() {
    return coordinator;
  }

  /** The gRPC port, or -1 for the in-process transport. */
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    gcTimer.shutdownNow();
    server.close();
    events.close();
    coordinator.close();
    tasks.close();
    journal.close();
  }
}
