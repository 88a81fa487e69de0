package dev.stagefarm.cli.farm;

import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistrySettings;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.oci.store.S3BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.kafka.FarmTopics;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The all-in-one farm: a real Kafka broker and S3 server in this JVM, the coordinator and N
 * workers, wired exactly as a distributed farm is (tasks and events over Kafka, blobs over S3); or,
 * {@link #startWithoutBroker}, on an in-process bus with a directory as its content store.
 * Part of the embedded farm that the rest of the CLI reaches only through {@link EmbeddedFarmSupport}.
 */
public final class EmbeddedFarm implements Farm {
  /**
   * Created at class initialisation, before components start concurrently: SLF4J initialises on
   * the first logger, and loggers asked for on other threads meanwhile get a replay warning.
   */
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EmbeddedFarm.class);

  public static final String BUCKET = "stagefarm";
  /**
   * The broker of a farm on one machine: short share-group heartbeats, so its workers join within
   * seconds; default record locks and a session timeout that survives a loaded machine.
   */
  public static final EmbeddedKafka.Settings ONE_MACHINE_KAFKA = new EmbeddedKafka.Settings(
      Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofMillis(500), Duration.ofSeconds(20),
      java.util.Map.of());
  /** The broker-less farm's content store under the farm home ({@link FileBlobStore}). */
  public static final String FILE_STORE_DIR = "store";
  /** The farm key file under the farm home, created on first start (owner-only). */
  public static final String FARM_KEY_FILE = "farm.key";
  /** {@link Options#grpcPort()} value: no network listener, the in-process transport only. */
  public static final int IN_PROCESS = -1;

  /**
   * @param home where the S3 data (content store, cache) lives across runs
   * @param kafkaDir the broker's data; null for a temporary one removed on close
   * @param grpcPort {@link #IN_PROCESS} for the in-process transport only, 0 for a free TCP
   *     port, else the TCP port to listen on
   * @param bind the address of the TCP port: loopback unless {@code api} authenticates callers
   * @param api TLS, authentication and limits of the gRPC port
   */
  public record Options(
      Path home,
      Path kafkaDir,
      int workers,
      RegistrySettings registry,
      EmbeddedKafka.Settings kafka,
      BuildCoordinator.Settings coordinator,
      int grpcPort,
      WorkerLauncher launcher,
      InetAddress bind,
      ApiSecurity api) {

    /** A farm without authentication: its TCP port, if any, on loopback only. */
    public Options(Path home, Path kafkaDir, int workers, RegistrySettings registry, EmbeddedKafka.Settings kafka,
        BuildCoordinator.Settings coordinator, int grpcPort, WorkerLauncher launcher) {
      this(home, kafkaDir, workers, registry, kafka, coordinator, grpcPort, launcher, InetAddress.getLoopbackAddress(),
          ApiSecurity.open());
    }

    public Options {
      if (!bind.isLoopbackAddress() && !api.authenticates()) {
        // the one-shot and test farms never listen openly; `stagefarm up` checks its flags first
        throw new IllegalArgumentException("an embedded farm without authentication listens on loopback only, not "
            + bind.getHostAddress());
      }
    }
  }

  private final Deque<AutoCloseable> resources;
  private final ManagedChannel channel;
  private final String endpoint;
  private final String kafkaBootstrap;
  private final String s3Endpoint;
  private final CoordinatorNode coordinator;
  private final FarmKeys farmKeys;
  private Broker broker;
  private S3Server s3Server;
  private CallActivity activity;
  /** The coordinator's in-process server: its only one, or the one beside its TCP port. */
  private String inProcessServerName;

  /** The farm's S3 server, which a fault test may stop and start again on the same port and data. */
  private static final class S3Server implements AutoCloseable {
    private EmbeddedS3 current;
    private final Path dir;
    private final int port;

    S3Server(EmbeddedS3 started) {
      this.current = started;
      this.dir = started.dataDir();
      this.port = started.port();
    }

    synchronized void restart(Duration downtime) throws InterruptedException {
      current.close();
      current = null;
      Thread.sleep(downtime.toMillis());
      current = EmbeddedS3.start(dir, port);
    }

    @Override
    public synchronized void close() {
      if (current != null) {
        current.close();
        current = null;
      }
    }
  }

  /** Stops the farm's S3 server for {@code downtime}, then starts it again: for fault tests. */
  public void restartS3(Duration downtime) throws InterruptedException {
    if (s3Server == null) {
      throw new IllegalStateException("this embedded farm has no S3 server (its store is a directory)");
    }
    s3Server.restart(downtime);
  }

  /** The farm's broker, which a fault test may stop and start again on the same port and data. */
  private static final class Broker implements AutoCloseable {
    private EmbeddedKafka current;
    private final Path dir;
    private final int port;
    private final EmbeddedKafka.Settings settings;

    Broker(EmbeddedKafka started, Path dir, EmbeddedKafka.Settings settings) {
      this.current = started;
      this.dir = dir;
      this.settings = settings;
      String bootstrap = started.bootstrapServers();
      this.port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    }

    synchronized void restart(Duration downtime) throws InterruptedException {
      current.close();
      current = null;
      Thread.sleep(downtime.toMillis());
      current = EmbeddedKafka.start(dir, port, settings);
    }

    @Override
    public synchronized void close() {
      if (current != null) {
        current.close();
        current = null;
      }
    }
  }

  /**
   * Stops the farm's Kafka broker, waits {@code downtime} and starts it again with the same port and
   * data: for fault tests. The coordinator and workers keep running and must ride it out.
   */
  public void restartKafka(Duration downtime) throws InterruptedException {
    if (broker == null) {
      throw new IllegalStateException("this embedded farm runs without a broker");
    }
    broker.restart(downtime);
  }

  private EmbeddedFarm(
      Deque<AutoCloseable> resources,
      ManagedChannel channel,
      String endpoint,
      String kafkaBootstrap,
      String s3Endpoint,
      CoordinatorNode coordinator,
      FarmKeys farmKeys) {
    this.farmKeys = farmKeys;
    this.resources = resources;
    this.channel = channel;
    this.endpoint = endpoint;
    this.kafkaBootstrap = kafkaBootstrap;
    this.s3Endpoint = s3Endpoint;
    this.coordinator = coordinator;
  }

  /** The record lock of the broker-less farm's task queue (the broker's default). */
  static final Duration IN_PROCESS_LOCK = Duration.ofSeconds(30);


  /**
   * A farm without a Kafka broker (the one-shot farm): the coordinator and the workers share an
   * in-process bus with the share group's semantics ({@link InProcessBus}), carrying the same signed
   * records; and without an S3 server: the content store is a directory under the farm home ({@link
   * FileBlobStore}, {@value #FILE_STORE_DIR}), which the coordinator and the workers open themselves.
   * {@code options}' Kafka settings are not used. It cannot be reached by workers or coordinators of
   * other processes.
   */
  public static EmbeddedFarm startWithoutBroker(Options options) throws Exception {
    return startOnBus(options, false);
  }

  /**
   * As {@link #startWithoutBroker}, for one build (the one-shot farm): a worker starts when a task is published
   * ({@link EmbeddedWorkers#taskPublished}: one per task, up to {@link Options#workers()}), none before the farm is
   * returned; a build whose stages are all cached starts none.
   */
  public static EmbeddedFarm startForOneBuild(Options options) throws Exception {
    return startOnBus(options, true);
  }

  public static EmbeddedFarm start(Options options) throws Exception {
    Deque<AutoCloseable> resources = new ArrayDeque<>();
    PhaseClock clock = new PhaseClock("embedded farm started");
    try {
      // first: a second farm of this home is refused before it starts anything (FarmWorkersDir)
      FarmWorkersDir workersDir = FarmWorkersDir.hold(options.home(), "the all-in-one farm with a broker (stagefarm up)");
      resources.push(workersDir); // closed last, after the workers
      Path kafkaDir = options.kafkaDir();
      if (kafkaDir == null) {
        Path temp = Files.createTempDirectory("stagefarm-kafka-");
        kafkaDir = temp;
        resources.push(() -> deleteTree(temp));
      }
      // the broker takes seconds to start: start the S3 server, connect to it and read the farm key meanwhile
      Path brokerDir = kafkaDir;
      CompletableFuture<EmbeddedKafka> kafkaStart =
          CompletableFuture.supplyAsync(() -> EmbeddedKafka.start(brokerDir, 0, options.kafka()), STARTER);
      EmbeddedS3 s3;
      S3BlobStore store;
      RegistryClient registry;
      FarmKeys farmKeys;
      try {
        s3 = EmbeddedS3.start(options.home().resolve("s3"), 0);
        resources.push(new S3Server(s3));
        clock.mark("S3");
        store = BlobStore.connect(new S3Config(s3.endpoint(), s3.accessKey(), s3.secretKey(), BUCKET, null));
        resources.push(store);
        store.ensureBucket();
        registry = new RegistryClient(options.registry());
        resources.push(registry);
        // one key per farm home, like its S3 data: cache records written by an earlier run verify
        farmKeys = FarmKeys.loadOrCreate(options.home().resolve(FARM_KEY_FILE));
        clock.mark("bucket");
      } finally {
        EmbeddedKafka started = joinStart(kafkaStart);
        if (started != null) {
          resources.push(new Broker(started, brokerDir, options.kafka()));
        }
      }
      EmbeddedKafka kafka = joinStart(kafkaStart);
      Broker broker = (Broker) resources.peek();
      clock.mark("broker (after S3)");
      FarmTopics.ensure(kafka.bootstrapServers(), FarmTopics.Layout.singleBroker());
      clock.mark("topics");

      // the workers need Kafka and S3, not the coordinator: they start (in parallel) while it joins its election
      EmbeddedWorkers workers = new EmbeddedWorkers(options.workers(), i -> startWorker(options, workersDir.workers(),
          i, kafka.bootstrapServers(), s3.endpoint(), s3.accessKey(), s3.secretKey(), farmKeys)).startNow();
      EmbeddedFarm farm = assemble(options, resources, clock, workers, kafka.bootstrapServers(), s3.endpoint(), farmKeys,
          server -> CoordinatorNode.start(
              new CoordinatorNode.Options(kafka.bootstrapServers(), "stagefarm-coordinator", options.coordinator(),
                  farmKeys),
              store, registry, new StoreImageExporter(store), server, options.api()),
          options.workers() + " workers (after the coordinator)");
      farm.broker = broker;
      return farm;
    } catch (Exception | Error e) {
      closeAll(resources);
      throw e;
    }
  }

  private static EmbeddedFarm startOnBus(Options options, boolean workersOnDemand) throws Exception {
    Deque<AutoCloseable> resources = new ArrayDeque<>();
    PhaseClock clock = new PhaseClock("embedded farm (no broker) started");
    try {
      // first, so a farm refused starts nothing: the one-shot farm's workers in a slot of their own, the local
      // farm's in <home>/workers, held against another farm of this home (FarmWorkersDir); closed after the workers
      // (pushed later) have stopped
      FarmWorkersDir held = workersOnDemand ? FarmWorkersDir.takeOneShotSlot(options.home())
          : FarmWorkersDir.hold(options.home(), "the local farm");
      resources.push(held);
      Path workDirs = held.workers();
      InProcessBus bus = new InProcessBus(IN_PROCESS_LOCK, FarmTopics.Layout.singleBroker().deliveryCountLimit());
      String address = InProcessBus.ADDRESS_PREFIX + "stagefarm-" + UUID.randomUUID();
      resources.push(bus.register(address));
      // one host: the store is a directory, no S3 server or client (bench/README, session 9)
      FileBlobStore store = FileBlobStore.open(options.home().resolve(FILE_STORE_DIR));
      resources.push(store);
      RegistryClient registry = new RegistryClient(options.registry());
      resources.push(registry);
      FarmKeys farmKeys = FarmKeys.loadOrCreate(options.home().resolve(FARM_KEY_FILE));
      clock.mark("file store");
      CoordinatorStart coordinator = server -> CoordinatorNode.startInProcess(
          new CoordinatorNode.Options("", "stagefarm-coordinator", options.coordinator(), farmKeys),
          bus, store, registry, new StoreImageExporter(store), server, options.api());
      EmbeddedWorkers workers = new EmbeddedWorkers(options.workers(),
          i -> startWorker(options, workDirs, i, address, store.location(), "", "", farmKeys));
      if (workersOnDemand) {
        Runnable note = AotRecordingNote.of(System.getenv()); // the launcher's AOT recording: a task ran
        bus.tasks().whenPublished(() -> { // a cached build publishes none: no worker starts
          note.run();
          workers.taskPublished();
        });
      } else {
        workers.startNow();
      }
      return assemble(options, resources, clock, workers, address, store.location(), farmKeys, coordinator,
          workersOnDemand ? "up to " + options.workers() + " workers, one per task" : options.workers() + " workers");
    } catch (Exception | Error e) {
      closeAll(resources);
      throw e;
    }
  }

  /** Starts the farm's coordinator on the server it is given. */
  @FunctionalInterface
  private interface CoordinatorStart {
    CoordinatorNode start(ServerBuilder<?> server) throws IOException;
  }

  /**
   * The rest of a farm's start, the same with or without a broker: the coordinator (while the workers
   * start), the workers joined, the client's channel.
   *
   * @param transport the broker's bootstrap servers or the in-process bus's address
   * @param storeLocation the S3 server's endpoint or the file store's {@code file:} location
   */
  private static EmbeddedFarm assemble(Options options, Deque<AutoCloseable> resources, PhaseClock clock,
      EmbeddedWorkers workers, String transport, String storeLocation, FarmKeys farmKeys,
      CoordinatorStart coordinatorStart, String workersPhase) throws Exception {
    String name = "stagefarm-" + UUID.randomUUID();
    ServerBuilder<?> server = serverBuilder(options, name);
    CallActivity activity = new CallActivity();
    server.intercept(activity);
    CoordinatorNode node;
    try {
      node = coordinatorStart.start(server);
    } catch (Exception | Error e) {
      resources.push(workers); // the ones that started stop with the rest
      throw e;
    }
    resources.push(node);
    if (options.grpcPort() != IN_PROCESS) {
      // the same API in-process too, for this JVM's own callers (the local farm's runs: InProcessFarm), behind the
      // same authenticator and counted by the same activity interceptor; the name is never published
      node.serveAlso(InProcessServerBuilder.forName(name).intercept(activity));
    }
    if (options.grpcPort() == IN_PROCESS || options.bind().isLoopbackAddress()) {
      node.allowLocalCacheDirectories(); // only this machine's users reach it: type=local names their directories
    }
    clock.mark("coordinator");
    workers.failBuildsOf(node);
    resources.push(workers); // above the coordinator: the workers stop first
    workers.awaitStarted(); // none begun yet when they start on the first task
    clock.mark(workersPhase);
    log.info(clock.summary());
    EmbeddedFarm farm = new EmbeddedFarm(resources, clientChannel(options, name, node), endpoint(options, node),
        transport, storeLocation, node, farmKeys);
    farm.activity = activity;
    farm.inProcessServerName = name;
    farm.s3Server = resources.stream().filter(S3Server.class::isInstance).map(S3Server.class::cast)
        .findFirst().orElse(null);
    return farm;
  }

  /**
   * Worker {@code i}'s start, in the background; {@code transport} is the Kafka bootstrap or the in-process bus's
   * address, {@code storeLocation} the S3 endpoint (with its keys) or the file store's {@code file:} location.
   */
  private static CompletableFuture<AutoCloseable> startWorker(Options options, Path workersDir, int i,
      String transport, String storeLocation, String accessKey, String secretKey, FarmKeys farmKeys) {
    WorkerConfig config =
        WorkerConfig.of(transport, storeLocation, accessKey, secretKey, BUCKET, workersDir.resolve("worker-" + i))
            .withWorkerId("worker-" + i)
            .withFarmKeys(farmKeys);
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return options.launcher().start(config);
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        },
        // a platform thread each, not the starter's virtual threads: a worker's start is CPU work (JIT-cold in a
        // one-shot), and virtual threads are not preempted: 32 starts on the 2 carriers of a 2-core host held every
        // stage's virtual thread back until the last had started (bench/README.md, "Session 13")
        task -> Thread.ofPlatform().daemon().name("stagefarm-worker-start-" + i).start(task));
  }

  /**
   * Initialises the classes of gRPC's in-process server and channel, which a farm's start would otherwise initialise
   * first on its thread (~30 ms of a one-shot's CPU on a cold JVM: {@code OneShotWarmUp}): a builder of a server
   * that is never built, a channel to a name no server has, shut down unused. Nothing is started or left behind.
   */
  public static void warmUpInProcessTransport() {
    String name = "stagefarm-warm-up-" + UUID.randomUUID();
    InProcessServerBuilder.forName(name);
    InProcessChannelBuilder.forName(name).build().shutdownNow();
  }

  private static ServerBuilder<?> serverBuilder(Options options, String name) throws IOException {
    return options.grpcPort() == IN_PROCESS
        ? InProcessServerBuilder.forName(name)
        // loopback unless callers authenticate (Options): no other machine may submit or read builds
        : NettyServerBuilder.forAddress(new InetSocketAddress(options.bind(), options.grpcPort()),
            options.api().serverCredentials());
  }

  /** For plaintext farms; clients of a farm with TLS or tokens connect with their own credentials. */
  private static ManagedChannel clientChannel(Options options, String name, CoordinatorNode node) {
    return options.grpcPort() == IN_PROCESS
        ? InProcessChannelBuilder.forName(name).build()
        : io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", node.port())
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build();
  }

  private static String endpoint(Options options, CoordinatorNode node) {
    return options.grpcPort() == IN_PROCESS ? "embedded" : "127.0.0.1:" + node.port();
  }

  @Override
  public Channel channel() {
    return channel;
  }

  @Override
  public String endpoint() {
    return endpoint;
  }

  /** The broker's bootstrap servers, or the in-process bus's address ({@link #startWithoutBroker}). */
  public String kafkaBootstrap() {
    return kafkaBootstrap;
  }

  /** The S3 server's endpoint, or the file store's {@code file:} location ({@link #startWithoutBroker}). */
  public String s3Endpoint() {
    return s3Endpoint;
  }

  /** The keys this farm's parts share (tests that start another coordinator on the same farm). */
  public FarmKeys farmKeys() {
    return farmKeys;
  }

  /**
   * A client of this farm's coordinator through its in-process server, every call carrying {@code
   * credentials}' bearer token (checked there as on the TCP port); closing it leaves the farm up.
   */
  public Farm inProcessClient(ApiClientFlags credentials) {
    return InProcessFarm.connect(inProcessServerName, credentials.inProcessCredentials());
  }

  /** The coordinator's in-process server (tests that call it without the client's credentials). */
  String inProcessServerName() {
    return inProcessServerName;
  }

  public CoordinatorNode coordinator() {
    return coordinator;
  }

  /**
   * This farm's coordinator writes image archives into files for this process's CLI (the one-shot: the layers
   * copied by the kernel from the store, verified where they land); other processes export through the API.
   */
  @Override
  public java.util.Optional<dev.stagefarm.cli.build.LocalImageFiles> localImageFiles() {
    dev.stagefarm.coordinator.grpc.ImageFileExport files = coordinator.imageFiles();
    return java.util.Optional.of(files::write);
  }

  /** The API calls this farm serves (the local farm's idle timeout). */
  public CallActivity activity() {
    return activity;
  }

  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  /** Stops everything (idempotent: a shutdown hook and the normal path may both call it). */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    PhaseClock clock = new PhaseClock("embedded farm stopped");
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    clock.mark("channel");
    closeAll(resources, clock);
    log.info(clock.summary());
  }

  /** Starts components concurrently; virtual threads, as starting them is mostly waiting. */
  private static final java.util.concurrent.Executor STARTER = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

  /** The started component, rethrowing its start failure (null when it failed and was already reported). */
  private static EmbeddedKafka joinStart(CompletableFuture<EmbeddedKafka> start) {
    try {
      return start.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  private static void closeAll(Deque<AutoCloseable> resources) {
    closeAll(resources, new PhaseClock("embedded farm stopped"));
  }

  private static void closeAll(Deque<AutoCloseable> resources, PhaseClock clock) {
    List<Exception> failures = new ArrayList<>();
    while (!resources.isEmpty()) {
      AutoCloseable resource = resources.pop();
      try {
        resource.close();
      } catch (Exception e) {
        failures.add(e);
      }
      clock.mark(resource.getClass().isSynthetic() ? "temp dir" : resource.getClass().getSimpleName());
    }
    if (!failures.isEmpty()) {
      log.warn("stopping the embedded farm: {}", failures.get(0).toString());
    }
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
