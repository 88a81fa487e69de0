package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.grpc.BuildServiceImpl;
import dev.stagefarm.coordinator.grpc.CoordinatorServer;
import dev.stagefarm.coordinator.grpc.ImageExporter;
import dev.stagefarm.coordinator.grpc.ImageFileExport;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.grpc.StandbyService;
import dev.stagefarm.coordinator.grpc.StoreAdministration;
import dev.stagefarm.coordinator.grpc.SwitchableService;
import dev.stagefarm.coordinator.kafka.FencedProducer;
import dev.stagefarm.coordinator.kafka.KafkaBuildJournal;
import dev.stagefarm.coordinator.kafka.KafkaEventStream;
import dev.stagefarm.coordinator.kafka.KafkaLeaderElection;
import dev.stagefarm.coordinator.kafka.KafkaTaskQueue;
import dev.stagefarm.coordinator.kafka.KafkaWorkerControl;
import dev.stagefarm.coordinator.inprocess.InMemoryBuildJournal;
import dev.stagefarm.coordinator.inprocess.InProcessEventStream;
import dev.stagefarm.coordinator.inprocess.InProcessTaskQueue;
import dev.stagefarm.coordinator.inprocess.InProcessWorkerControl;
import dev.stagefarm.coordinator.port.BuildJournal;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.coordinator.port.WorkerControl;
import dev.stagefarm.coordinator.port.WorkerEventStream;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.coordinator.plan.DockerfilePlanner;
import dev.stagefarm.coordinator.plan.RecentBaseImages;
import dev.stagefarm.coordinator.store.OffloadingTaskQueue;
import dev.stagefarm.coordinator.store.RegistryBaseImages;
import dev.stagefarm.coordinator.store.RegistryImagePusher;
import dev.stagefarm.coordinator.store.S3BuildSecretStore;
import dev.stagefarm.coordinator.store.S3CacheRecords;
import dev.stagefarm.coordinator.store.S3ContentStore;
import dev.stagefarm.coordinator.store.StoreCollector;
import dev.stagefarm.coordinator.store.StoreUsage;
import dev.stagefarm.coordinator.store.StoredImageAssembler;
import dev.stagefarm.coordinator.remotecache.FarmRemoteCache;
import dev.stagefarm.oci.registry.BaseImageFetcher;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.coordinator.kafka.KafkaReachability;
import dev.stagefarm.coordinator.metrics.CoordinatorMetrics;
import dev.stagefarm.coordinator.trace.BuildTracing;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildState;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.MeterRegistry;
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.time.Clock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
   * @param kafkaSecurity SASL/TLS settings of every Kafka client of this coordinator (its own
   *     principal; docs/security.md, "Kafka")
   * @param registryCredentialsFallback whether a build's pulls and pushes use the coordinator's own
   *     registry credentials for registries its client sent none for ({@code
   *     registry-credentials-fallback}); false: those are anonymous (docs/security.md, "Registry credentials")
   */
  public record Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings,
      FarmKeys farmKeys, String advertisedAddress, Duration electionSession, KafkaClientProperties kafkaSecurity,
      boolean registryCredentialsFallback) {

    public Options {
      kafkaSecurity = kafkaSecurity == null ? KafkaClientProperties.none() : kafkaSecurity;
    }

    public Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings, FarmKeys farmKeys,
        String advertisedAddress, Duration electionSession, KafkaClientProperties kafkaSecurity) {
      this(kafkaBootstrap, eventGroup, settings, farmKeys, advertisedAddress, electionSession, kafkaSecurity, false);
    }

    public Options withRegistryCredentialsFallback(boolean fallback) {
      return new Options(kafkaBootstrap, eventGroup, settings, farmKeys, advertisedAddress, electionSession,
          kafkaSecurity, fallback);
    }

    public Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings, FarmKeys farmKeys) {
      this(kafkaBootstrap, eventGroup, settings, farmKeys, "", DEFAULT_ELECTION_SESSION, KafkaClientProperties.none());
    }

    /** Plain settings with the coordinator's Kafka SASL/TLS settings. */
    public Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings, FarmKeys farmKeys,
        KafkaClientProperties kafkaSecurity) {
      this(kafkaBootstrap, eventGroup, settings, farmKeys, "", DEFAULT_ELECTION_SESSION, kafkaSecurity);
    }

    public Options(String kafkaBootstrap, String eventGroup, BuildCoordinator.Settings settings, FarmKeys farmKeys,
        String advertisedAddress, Duration electionSession) {
      this(kafkaBootstrap, eventGroup, settings, farmKeys, advertisedAddress, electionSession,
          KafkaClientProperties.none());
    }

    public Options withAdvertisedAddress(String address) {
      return new Options(kafkaBootstrap, eventGroup, settings, farmKeys, address, electionSession, kafkaSecurity,
          registryCredentialsFallback);
    }
  }

  /** Kafka's smallest session by default (broker {@code group.min.session.timeout.ms}). */
  public static final Duration DEFAULT_ELECTION_SESSION = Duration.ofSeconds(6);
  /** How long a new leader keeps trying to take over the transactional id while Kafka is away. */
  private static final Duration FENCE_TIMEOUT = Duration.ofSeconds(60);

  private final Options options;
  /** Whether builds may name directories of this host for --cache-from/--cache-to type=local. */
  private volatile boolean localCacheDirectories;
  private final BlobStore store;
  private final RegistryClient registry;
  private final ImageExporter exporter;
  private final ApiSecurity security;
  private final java.util.concurrent.ScheduledExecutorService gcTimer =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("stagefarm-gc").factory());
  private final S3ContentStore content;
  private final SwitchableService services;
  private final ServerServiceDefinition standby;
  private final CoordinatorServer server;
  /** The same API on other servers ({@link #serveAlso}): closed with this node. */
  private final List<CoordinatorServer> alsoServing = new java.util.concurrent.CopyOnWriteArrayList<>();
  private KafkaLeaderElection election;
  /** The standard gRPC health service: SERVING only while this coordinator is the active one. */
  private final HealthStatusManager health = new HealthStatusManager();
  private final KafkaReachability kafkaReachability;
  private volatile CoordinatorMetrics metrics = CoordinatorMetrics.none();
  private volatile BuildTracing tracing = BuildTracing.none();
  /** The last readiness answer of a standby, and when it was found (System.nanoTime). */
  private volatile Optional<String> standbyReadiness = Optional.of("not checked yet");
  private volatile long standbyCheckedNanos;
  /** The current term as the active coordinator, or null while a standby. */
  private volatile Term term;
  private volatile long electedAtNanos;
  /** The policy of {@code stagefarm prune} and of the periodic collection, if any. */
  private volatile StoreCollector.Policy gcPolicy = StoreCollector.Policy.DEFAULT;

  /**
   * What exists while this coordinator is the active one.
   *
   * @param closeWrites closes what the term wrote through (the fenced producer; nothing in-process)
   */
  private record Term(Runnable closeWrites, WorkerControl control, BuildCoordinator coordinator,
      WorkerEventStream events, ServerServiceDefinition service) {}

  private CoordinatorNode(Options options, BlobStore store, RegistryClient registry, ImageExporter exporter,
      ServerBuilder<?> serverBuilder, ApiSecurity security) {
    this.options = options;
    this.store = store;
    this.registry = registry;
    this.exporter = exporter;
    this.security = security;
    this.content = new S3ContentStore(store);
    this.standby = StandbyService.definition(this::leaderAddress);
    this.services = new SwitchableService(standby);
    this.kafkaReachability = options.kafkaBootstrap().isEmpty() ? null
        : new KafkaReachability(options.kafkaBootstrap(), options.kafkaSecurity());
    notServing();
    serverBuilder.addService(health.getHealthService());
    this.server = new CoordinatorServer(serverBuilder, services, security);
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
    return start(options, store, registry, exporter, serverBuilder, ApiSecurity.open());
  }

  /**
   * As {@link #start(Options, BlobStore, RegistryClient, ImageExporter, ServerBuilder)}, with
   * client authentication.
   *
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
    CoordinatorNode node = new CoordinatorNode(options, store, registry, exporter, serverBuilder, security);
    node.server.start();
    node.election = new KafkaLeaderElection(options.kafkaBootstrap(), options.kafkaSecurity(),
        options.eventGroup() + "-leader",
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
    FencedProducer producer = new FencedProducer(options.kafkaBootstrap(), options.kafkaSecurity(), options.eventGroup());
    BuildCoordinator coordinator = null;
    KafkaWorkerControl control = null;
    try {
      producer.fenceOthers(FENCE_TIMEOUT); // from here on, the previous leader cannot write
      long fenced = System.nanoTime();
      if (!options.advertisedAddress().isEmpty()) {
        producer.send(election.announcement(options.advertisedAddress()));
      }
      KafkaTaskQueue tasks = new KafkaTaskQueue(producer, options.farmKeys());
      KafkaBuildJournal journal = new KafkaBuildJournal(options.kafkaBootstrap(), options.kafkaSecurity(), producer, content);
      control = new KafkaWorkerControl(options.kafkaBootstrap(), options.kafkaSecurity(), options.farmKeys(),
          Clock.systemUTC());
      coordinator = newCoordinator(tasks, control, journal);
      long ready = System.nanoTime();
      int resumed = coordinator.resumeFromJournal();
      BuildCoordinator active = coordinator;
      activate(producer::close, control, coordinator, new KafkaEventStream(options.kafkaBootstrap(),
          options.kafkaSecurity(), options.eventGroup(), options.farmKeys(), active::onEvent).start());
      log.info("active coordinator after {} ms (fencing the previous one {} ms, journal replay and resume {} ms):"
              + " {} build(s) resumed", (electedAtNanos - started) / 1_000_000, (fenced - started) / 1_000_000,
          (electedAtNanos - ready) / 1_000_000, resumed);
    } catch (RuntimeException e) { // a WriteFailure among them: Kafka unreachable, or fenced at once
      log.error("taking over as the active coordinator failed; staying a standby: {}", e.toString());
      if (coordinator != null) {
        coordinator.close();
      }
      if (control != null) {
        control.close();
      }
      producer.close();
    }
  }

  /** The term's coordinator on these ports, with this node's planner, store, registry, metrics and tracing. */
  private BuildCoordinator newCoordinator(TaskQueue tasks, WorkerControl control, BuildJournal journal) {
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
                // a no-op rebuild does not ask the registry for its base tag again within seconds
                new RecentBaseImages(new RegistryBaseImages(registry, store, options.registryCredentialsFallback()))),
            new StoredImageAssembler(store, new RegistryImagePusher(registry, store,
                options.registryCredentialsFallback())),
            new S3BuildSecretStore(store, options.farmKeys()));
    coordinator.reportTo(metrics);
    coordinator.traceTo(tracing);
    coordinator.useRemoteCache(new FarmRemoteCache(registry, store, new S3CacheRecords(store, options.farmKeys()),
        Path.of(System.getProperty("java.io.tmpdir"), "stagefarm-cache-import"), () -> localCacheDirectories));
    coordinator.whenFenced(reason -> Thread.ofPlatform().name("stagefarm-step-down").start(() -> stepDown(reason)));
    return coordinator;
  }

  /** Serves the BuildService of {@code coordinator} from now on: this node is the active one. */
  private void activate(Runnable closeWrites, WorkerControl control, BuildCoordinator coordinator,
      WorkerEventStream events) {
    ServerServiceDefinition service =
        new BuildServiceImpl(coordinator, content,
            ImageExporter.pushingIndexes(exporter, new RegistryImagePusher(registry, store)),
            security.maxUnfinishedBuildsPerClient(),
            storeAdministration()).bindService();
    term = new Term(closeWrites, control, coordinator, events, service);
    services.switchTo(service);
    health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
    health.setStatus(BuildServiceGrpc.SERVICE_NAME, HealthCheckResponse.ServingStatus.SERVING);
    electedAtNanos = System.nanoTime();
  }

  /**
   * A coordinator on an in-process bus (the one-shot farm): active at once, without a leader
   * election or fencing (it is the only one by construction), with a journal in memory (it resumes
   * nothing). {@code options}' Kafka fields are not used.
   */
  public static CoordinatorNode startInProcess(Options options, InProcessBus bus, BlobStore store,
      RegistryClient registry, ImageExporter exporter, ServerBuilder<?> serverBuilder, ApiSecurity security)
      throws IOException {
    CoordinatorNode node = new CoordinatorNode(options, store, registry, exporter, serverBuilder, security);
    node.server.start();
    synchronized (node) {
      InProcessWorkerControl control = new InProcessWorkerControl(bus, options.farmKeys(), Clock.systemUTC());
      BuildCoordinator coordinator = node.newCoordinator(new InProcessTaskQueue(bus, options.farmKeys()), control,
          new InMemoryBuildJournal());
      node.activate(() -> {}, control, coordinator,
          new InProcessEventStream(bus, options.farmKeys(), coordinator::onEvent).start());
    }
    log.info("active coordinator on the in-process bus (no broker, no election)");
    return node;
  }

  /** Set by {@link #close()}: a step-down from now on is the expected end, not a fault. */
  private volatile boolean closing;

  /** Stops acting as the active coordinator (deposed, fenced or closing). */
  private synchronized void stepDown(String reason) {
    Term ending = term;
    if (ending == null) {
      return;
    }
    term = null;
    if (closing) {
      // leaving the election on close deposes this node: expected, not a warning at the user of a one-shot build
      log.info("stepping down as the active coordinator: closing ({})", reason);
    } else {
      log.warn("stepping down as the active coordinator: {}", reason);
    }
    notServing();
    services.switchTo(standby);
    ending.events().close();
    ending.coordinator().close();
    ending.control().close();
    ending.closeWrites().run();
  }

  private void notServing() {
    health.setStatus("", HealthCheckResponse.ServingStatus.NOT_SERVING);
    health.setStatus(BuildServiceGrpc.SERVICE_NAME, HealthCheckResponse.ServingStatus.NOT_SERVING);
  }

  /** Records builds' and stages' spans from now on, in this term and the next (docs/operations.md, "Traces"). */
  public synchronized void traceTo(BuildTracing buildTracing) {
    tracing = buildTracing;
    Term current = term;
    if (current != null) {
      current.coordinator().traceTo(buildTracing);
    }
  }

  /**
   * Counts and times stages and builds into {@code registry} from now on (docs/operations.md,
   * "Metrics"); the gauges follow this coordinator through elections.
   */
  public synchronized void reportTo(MeterRegistry registry) {
    metrics = new CoordinatorMetrics(registry, () -> {
      Term current = term;
      return current == null ? CoordinatorMetrics.Source.STANDBY : new CoordinatorMetrics.Source() {
        @Override
        public boolean active() {
          return true;
        }

        @Override
        public Scheduler.StageCounts stageCounts() {
          return current.coordinator().stageCounts();
        }

        @Override
        public Map<BuildState, Integer> unfinishedBuilds() {
          return current.coordinator().unfinishedBuilds();
        }

        @Override
        public int heldStages() {
          return current.coordinator().dispatchState().held();
        }

        @Override
        public int dispatchCapacity() {
          return current.coordinator().dispatchState().capacity();
        }

        @Override
        public Map<String, Integer> tenantSlots() {
          return current.coordinator().tenantSlots();
        }
      };
    });
    Term current = term;
    if (current != null) {
      current.coordinator().reportTo(metrics);
    }
  }

  /** How long a loop thread may go without a turn before the process counts as stuck. */
  static final Duration STUCK_AFTER = Duration.ofMinutes(2);
  /** How long a standby's readiness answer is reused (each check asks Kafka and S3). */
  static final Duration READINESS_CACHE = Duration.ofSeconds(5);
  static final Duration READINESS_TIMEOUT = Duration.ofSeconds(3);

  /**
   * Empty while the process works (its liveness, {@code /livez}); else why not: the leader
   * election's loop stopped or is stuck, or the active term's lease checker is stuck (it holds the
   * scheduler's lock).
   */
  public Optional<String> whyNotLive() {
    KafkaLeaderElection current = election;
    if (current != null) {
      Optional<Duration> since = current.sinceLastPoll();
      if (since.isEmpty()) {
        return Optional.of("the leader election's loop is not running");
      }
      if (since.get().compareTo(STUCK_AFTER) > 0) {
        return Optional.of("the leader election's loop has not polled for " + since.get().toSeconds() + " s");
      }
    }
    Term active = term;
    if (active != null) {
      Duration since = active.coordinator().sinceLastLeaseCheck();
      if (since.compareTo(STUCK_AFTER) > 0) {
        return Optional.of("the lease checker has not run for " + since.toSeconds() + " s");
      }
    }
    return Optional.empty();
  }

  /**
   * Empty when this coordinator should get traffic ({@code /readyz}): it is the active one, or a
   * standby that can take over (Kafka and S3 answer it); else why not.
   */
  public Optional<String> whyNotReady() {
    if (term != null) {
      return Optional.empty();
    }
    if (System.nanoTime() - standbyCheckedNanos < READINESS_CACHE.toNanos()) {
      return standbyReadiness;
    }
    Optional<String> answer = kafkaReachability == null ? Optional.of("no Kafka (an in-process coordinator)")
        : kafkaReachability.problem(READINESS_TIMEOUT);
    if (answer.isEmpty()) {
      try {
        // a HEAD of the empty blob: an answer, there or not, means S3 and the bucket are reachable
        store.exists(Namespace.BLOBS, Digest.of(new byte[0]));
      } catch (IOException | RuntimeException e) {
        answer = Optional.of("S3 unreachable: " + e.getMessage());
      }
    }
    standbyReadiness = answer.map(why -> "standby, cannot take over: " + why);
    standbyCheckedNanos = System.nanoTime();
    return standbyReadiness;
  }

  private Optional<String> leaderAddress() {
    KafkaLeaderElection current = election;
    return current == null ? Optional.empty() : current.announcedLeader();
  }

  /** Whether this coordinator is the active one now. */
  /**
   * Lets builds read and write OCI layout directories of this host (--cache-from/--cache-to type=local): only for
   * the farm a client runs for itself (the local background farm, --one-shot), never a shared coordinator.
   */
  public CoordinatorNode allowLocalCacheDirectories() {
    localCacheDirectories = true;
    return this;
  }

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

  /** Writes finished builds' image archives into files, for a client in this process ({@link ImageFileExport}). */
  public ImageFileExport imageFiles() {
    return new ImageFileExport(this::coordinator, exporter);
  }

  /**
   * One garbage collection of the content store with this coordinator's builds as roots
   * (docs/operations.md, "Garbage collection"); only the active coordinator collects.
   *
   * @throws IllegalStateException while this coordinator is a standby
   */
  public StoreCollector.Report collectGarbage(StoreCollector.Policy policy, boolean dryRun) throws IOException {
    BuildCoordinator active = coordinator();
    return new StoreCollector(store, options.farmKeys(), policy, Clock.systemUTC())
        .collect(active::contentRoots, dryRun);
  }

  /** The content store's usage and on-demand collection for {@code stagefarm du} and {@code prune}. */
  private StoreAdministration storeAdministration() {
    return new StoreAdministration() {
      @Override
      public Usage usage() throws IOException {
        return new Usage(StoreUsage.measure(store), collectGarbage(gcPolicy, true));
      }

      @Override
      public StoreCollector.Report prune(Optional<Duration> keepDuration, boolean dryRun) throws IOException {
        StoreCollector.Policy policy = gcPolicy;
        return collectGarbage(new StoreCollector.Policy(keepDuration.orElse(policy.keepDuration()), policy.grace()),
            dryRun);
      }
    };
  }

  /** The policy {@code stagefarm prune} uses (the grace always; the keep duration unless the client gives one). */
  public void gcPolicy(StoreCollector.Policy policy) {
    this.gcPolicy = policy;
  }

  /** Collects garbage every {@code interval} while active; a failed run is logged and the next one tries again. */
  public void collectGarbageEvery(Duration interval, StoreCollector.Policy policy) {
    this.gcPolicy = policy;
    long millis = interval.toMillis();
    gcTimer.scheduleWithFixedDelay(() -> {
      if (!isActive()) {
        return; // the active coordinator collects: a standby knows no live builds
      }
      try {
        collectGarbage(policy, false);
      } catch (IOException | RuntimeException e) {
        log.warn("content store gc failed (nothing more is deleted until the next run): {}", e.toString());
      }
    }, millis, millis, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * Serves this node's API on another server as well (an in-process one, for callers in this JVM):
   * the same services as they switch (standby, active), the same health service and the same
   * authenticator, so a call there is authenticated exactly as one on the node's own server. The
   * caller adds its own interceptors to {@code builder} first, as for the node's own server.
   */
  public void serveAlso(ServerBuilder<?> builder) throws IOException {
    builder.addService(health.getHealthService());
    CoordinatorServer also = new CoordinatorServer(builder, services, security).start();
    alsoServing.add(also);
  }

  /** The gRPC port, or -1 for the in-process transport. */
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    closing = true;
    gcTimer.shutdownNow();
    health.enterTerminalState();
    alsoServing.forEach(CoordinatorServer::close);
    server.close();
    KafkaLeaderElection current = election;
    if (current != null) {
      current.close(); // leaves the group (and steps down): a standby takes over at once
    }
    stepDown("closing");
    if (kafkaReachability != null) {
      kafkaReachability.close();
    }
  }
}
