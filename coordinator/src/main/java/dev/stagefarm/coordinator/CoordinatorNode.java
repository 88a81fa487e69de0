package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.grpc.BuildServiceImpl;
import dev.stagefarm.coordinator.grpc.CoordinatorServer;
import dev.stagefarm.coordinator.grpc.ImageExporter;
import dev.stagefarm.coordinator.kafka.KafkaBuildJournal;
import dev.stagefarm.coordinator.kafka.KafkaEventStream;
import dev.stagefarm.coordinator.kafka.KafkaTaskQueue;
import dev.stagefarm.coordinator.kafka.KafkaWorkerControl;
import dev.stagefarm.coordinator.plan.DockerfilePlanner;
import dev.stagefarm.coordinator.store.OffloadingTaskQueue;
import dev.stagefarm.coordinator.store.RegistryBaseImages;
import dev.stagefarm.coordinator.store.RegistryImagePusher;
import dev.stagefarm.coordinator.store.S3CacheRecords;
import dev.stagefarm.coordinator.store.S3ContentStore;
import dev.stagefarm.coordinator.store.StoredImageAssembler;
import dev.stagefarm.oci.registry.BaseImageFetcher;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.FarmKeys;
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
   */
  public record Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings,
      FarmKeys farmKeys) {}

  private final KafkaTaskQueue tasks;
  private final KafkaWorkerControl control;
  private final KafkaBuildJournal journal;
  private final BuildCoordinator coordinator;
  private final KafkaEventStream events;
  private final CoordinatorServer server;

  private CoordinatorNode(
      KafkaTaskQueue tasks,
      KafkaWorkerControl control,
      KafkaBuildJournal journal,
      BuildCoordinator coordinator,
      KafkaEventStream events,
      CoordinatorServer server) {
    this.tasks = tasks;
    this.control = control;
    this.journal = journal;
    this.coordinator = coordinator;
    this.events = events;
    this.server = server;
  }

  public static CoordinatorNode start(
      Options options,
      BlobStore store,
      RegistryClient registry,
      ImageExporter exporter,
      ServerBuilder<?> serverBuilder)
      throws IOException {
    KafkaTaskQueue tasks = new KafkaTaskQueue(options.kafkaBootstrap(), options.farmKeys());
    KafkaBuildJournal journal = new KafkaBuildJournal(options.kafkaBootstrap());
    KafkaWorkerControl control = new KafkaWorkerControl(options.kafkaBootstrap(), options.farmKeys(), Clock.systemUTC());
    S3ContentStore content = new S3ContentStore(store);
    BuildCoordinator coordinator =
        new BuildCoordinator(
            Clock.systemUTC(),
            options.settings(),
            new OffloadingTaskQueue(tasks, content, OffloadingTaskQueue.INLINE_LIMIT),
            control,
            journal,
            new DockerfilePlanner(
                content,
                new S3CacheRecords(store, options.farmKeys()),
                new RegistryBaseImages(new BaseImageFetcher(registry, store), store)),
            new StoredImageAssembler(store, new RegistryImagePusher(registry, store)));
    int resumed = coordinator.resumeFromJournal();
    if (resumed > 0) {
      log.info("resumed {} build(s) after a restart", resumed);
    }
    KafkaEventStream events =
        new KafkaEventStream(options.kafkaBootstrap(), options.eventGroup(), options.farmKeys(), coordinator::onEvent).start();
    CoordinatorServer server =
        new CoordinatorServer(serverBuilder, new BuildServiceImpl(coordinator, content, exporter)).start();
    return new CoordinatorNode(tasks, control, journal, coordinator, events, server);
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
    server.close();
    events.close();
    coordinator.close();
    tasks.close();
    control.close();
    journal.close();
  }
}
