package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.grpc.BuildServiceImpl;
import dev.stagefarm.coordinator.grpc.CoordinatorServer;
import dev.stagefarm.coordinator.grpc.ImageExporter;
import dev.stagefarm.coordinator.grpc.StandbyService;
import dev.stagefarm.coordinator.grpc.SwitchableService;
import dev.stagefarm.coordinator.kafka.FencedProducer;
import dev.stagefarm.coordinator.kafka.KafkaBuildJournal;
import dev.stagefarm.coordinator.kafka.KafkaEventStream;
import dev.stagefarm.coordinator.kafka.KafkaLeaderElection;
import dev.stagefarm.coordinator.kafka.KafkaTaskQueue;
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
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator of a farm that may have several: it joins the farm's leader election and
 * serves gRPC at once. As a standby it answers every call with UNAVAILABLE and the leader's address
 * and reads nothing else. When elected it takes over: fences the previous leader's writes (the
 * farm's transactional id), announces its address, replays the build journal and resumes every
 * running build, consumes worker events, and serves the BuildService. When deposed or fenced it
 * drops all of that and is a standby again (docs/operations.md, "Coordinators in HA").
 */
public final class CoordinatorNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorNode.class);

  /**
   * @param eventGroup the consumer group of the farm's coordinators on the event topic; it also
   *     names the farm's leader election ({@code <eventGroup>-leader}) and transactional id, so every
   *     coordinator of one farm must use the same
   * @param farmKeys the keys shared with the workers only: tasks are signed with them, events and
   *     cache records are trusted only when they verify (docs/security.md, "Farm parts")
   * @param advertisedAddress the {@code HOST:PORT} clients reach this coordinator at (standbys
   *     name the leader's); empty when unknown
   * @param electionSession how long a silent leader keeps leadership before a standby takes over
   */
  public record Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings,
      FarmKeys farmKeys, String advertisedAddress, Duration electionSession) {

    public Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings, FarmKeys farmKeys) {
      this(kafkaBootstrap, eventGroup, settings, farmKeys, "", DEFAULT_ELECTION_SESSION);
    }

    public Options withAdvertisedAddress(String address) {
      return new Options(kafkaBootstrap, eventGroup, settings, farmKeys, address, electionSession);
    }
  }

  /** Kafka's smallest session by default (broker {@code group.min.session.timeout.ms}). */
  public static final Duration DEFAULT_ELECTION_SESSION = Duration.ofSeconds(6);
  /** How long a new leader keeps trying to take over the transactional id while Kafka is away. */
  private static final Duration FENCE_TIMEOUT = Duration.ofSeconds(60);

  private final Options options;
  private final BlobStore store;
  private final RegistryClient registry;
  private final ImageExporter exporter;
  private final S3ContentStore content;
  private final SwitchableService services;
  private final ServerServiceDefinition standby;
  private final CoordinatorServer server;
  private KafkaLeaderElection election;
  /** The current term as the active coordinator, or null while a standby. */
  private volatile Term term;
  private volatile long electedAtNanos;

  /** What exists while this coordinator is the active one. */
  private record Term(FencedProducer producer, BuildCoordinator coordinator, KafkaEventStream events,
      ServerServiceDefinition service) {}

  private CoordinatorNode(Options options, BlobStore store, RegistryClient registry, ImageExporter exporter,
      ServerBuilder<?> serverBuilder) {
    this.options = options;
    this.store = store;
    this.registry = registry;
    this.exporter = exporter;
    this.content = new S3ContentStore(store);
    this.standby = StandbyService.definition(this::leaderAddress);
    this.services = new SwitchableService(standby);
    this.server = new CoordinatorServer(serverBuilder, services);
  }

  /**
   * Starts serving and joins the election; returns once this coordinator is active or knows it is a
   * standby (or after 60 s without Kafka, as a standby that keeps trying).
   */
  public static CoordinatorNode start(
      Options options,
      BlobStore store,
      RegistryClient registry,
      ImageExporter exporter,
      ServerBuilder<?> serverBuilder)
      throws IOException {
    CoordinatorNode node = new CoordinatorNode(options, store, registry, exporter, serverBuilder);
    node.server.start();
    node.election = new KafkaLeaderElection(options.kafkaBootstrap(), options.eventGroup() + "-leader",
        options.electionSession(), new KafkaLeaderElection.Listener() {
          @Override
          public void elected() {
            node.takeOver();
          }

          @Override
          public void deposed() {
            node.stepDown("deposed by the leader election");
          }
        });
    try {
      node.election.start(Duration.ofSeconds(60));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      node.close();
      throw new IOException("interrupted while joining the leader election", e);
    }
    return node;
  }

  /** Becomes the active coordinator; on failure stays a standby (and gives up leadership). */
  private synchronized void takeOver() {
    if (term != null) {
      return;
    }
    long started = System.nanoTime();
    FencedProducer producer = new FencedProducer(options.kafkaBootstrap(), options.eventGroup());
    BuildCoordinator coordinator = null;
    try {
      producer.fenceOthers(FENCE_TIMEOUT); // from here on, the previous leader cannot write
      long fenced = System.nanoTime();
      if (!options.advertisedAddress().isEmpty()) {
        producer.send(election.announcement(options.advertisedAddress()));
      }
      KafkaTaskQueue tasks = new KafkaTaskQueue(producer, options.farmKeys());
      KafkaBuildJournal journal = new KafkaBuildJournal(options.kafkaBootstrap(), producer, content);
      coordinator =
          new BuildCoordinator(
              Clock.systemUTC(),
              options.settings(),
              new OffloadingTaskQueue(tasks, content, OffloadingTaskQueue.INLINE_LIMIT),
              journal,
              new DockerfilePlanner(
                  content,
                  new S3CacheRecords(store, options.farmKeys()),
                  new RegistryBaseImages(new BaseImageFetcher(registry, store), store)),
              new StoredImageAssembler(store, new RegistryImagePusher(registry, store)));
      coordinator.whenFenced(reason -> Thread.ofPlatform().name("stagefarm-step-down").start(() -> stepDown(reason)));
      long ready = System.nanoTime();
      int resumed = coordinator.resumeFromJournal();
      KafkaEventStream events =
          new KafkaEventStream(options.kafkaBootstrap(), options.eventGroup(), options.farmKeys(), coordinator::onEvent)
              .start();
      ServerServiceDefinition service = new BuildServiceImpl(coordinator, content, exporter).bindService();
      term = new Term(producer, coordinator, events, service);
      services.switchTo(service);
      electedAtNanos = System.nanoTime();
      log.info("active coordinator after {} ms (fencing the previous one {} ms, journal replay and resume {} ms):"
              + " {} build(s) resumed", (electedAtNanos - started) / 1_000_000, (fenced - started) / 1_000_000,
          (electedAtNanos - ready) / 1_000_000, resumed);
    } catch (RuntimeException e) { // a WriteFailure among them: Kafka unreachable, or fenced at once
      log.error("taking over as the active coordinator failed; staying a standby: {}", e.toString());
      if (coordinator != null) {
        coordinator.close();
      }
      producer.close();
    }
  }

  /** Stops acting as the active coordinator (deposed, fenced or closing). */
  private synchronized void stepDown(String reason) {
    Term ending = term;
    if (ending == null) {
      return;
    }
    term = null;
    log.warn("stepping down as the active coordinator: {}", reason);
    services.switchTo(standby);
    ending.events().close();
    ending.coordinator().close();
    ending.producer().close();
  }

  private Optional<String> leaderAddress() {
    KafkaLeaderElection current = election;
    return current == null ? Optional.empty() : current.announcedLeader();
  }

  /** Whether this coordinator is the active one now. */
  public boolean isActive() {
    return term != null;
  }

  /** When this coordinator last became active ({@link System#nanoTime()}), 0 if never. */
  public long electedAtNanos() {
    return electedAtNanos;
  }

  /** Events ignored so far for a missing or invalid farm MAC (in the current term). */
  public long unauthenticatedEvents() {
    Term current = term;
    return current == null ? 0 : current.events().unauthenticatedEvents();
  }

  /**
   * The active term's coordinator.
   *
   * @throws IllegalStateException while this coordinator is a standby
   */
  public BuildCoordinator coordinator() {
    Term current = term;
    if (current == null) {
      throw new IllegalStateException("this coordinator is a standby");
    }
    return current.coordinator();
  }

  /** The gRPC port, or -1 for the in-process transport. */
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.close();
    KafkaLeaderElection current = election;
    if (current != null) {
      current.close(); // leaves the group (and steps down): a standby takes over at once
    }
    stepDown("closing");
  }
}
