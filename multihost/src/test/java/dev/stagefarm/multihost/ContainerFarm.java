package dev.stagefarm.multihost;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Device;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * A farm of containers on a private network of the suite's engine: Kafka, S3, a registry, the
 * coordinator and workers, each in its own container, from the images deploy/images/build.sh made.
 * Workers get the container settings of docs/operations.md (not --privileged: it fails on hosts
 * whose root lacks CAP_SYS_RESOURCE). The coordinator's gRPC port is bound to a fixed host port,
 * so a restarted coordinator is found where it was.
 */
final class ContainerFarm implements AutoCloseable {
  static final String TAG = System.getProperty("stagefarm.image.tag", "dev");
  private static final String S3_ACCESS = "stagefarm";

  private final Network network = Network.newNetwork();
  private final String s3Secret = randomKey(24);
  private final byte[] coordinatorKey;
  private final byte[] workerKey;
  private final GenericContainer<?> kafka;
  private final GenericContainer<?> s3;
  private final GenericContainer<?> registry;
  private final GenericContainer<?> coordinator;
  private final int coordinatorPort;
  private final Map<String, GenericContainer<?>> workers = new LinkedHashMap<>();

  /** {@code keys}: the directory {@code stagefarm admin farm-keys --out} wrote (coordinator.key, worker.key). */
  ContainerFarm(int workerCount, Path keys) throws IOException {
    coordinatorKey = Files.readAllBytes(keys.resolve("coordinator.key"));
    workerKey = Files.readAllBytes(keys.resolve("worker.key"));
    try {
      kafka = new GenericContainer<>(image("stagefarm-kafka")).withNetwork(network).withNetworkAliases("kafka")
          .withEnv("KAFKA_ADVERTISED_HOST", "kafka")
          .waitingFor(Wait.forLogMessage(".*Kafka Server started.*", 1).withStartupTimeout(Duration.ofMinutes(5)));
      s3 = new GenericContainer<>(image("stagefarm-s3")).withNetwork(network).withNetworkAliases("s3")
          .withEnv("S3_ACCESS_KEY", S3_ACCESS).withEnv("S3_SECRET_KEY", s3Secret)
          .withExposedPorts(9000).waitingFor(Wait.forListeningPort().withStartupTimeout(Duration.ofMinutes(5)));
      registry = new GenericContainer<>(image("stagefarm-registry")).withNetwork(network).withNetworkAliases("registry")
          .withExposedPorts(5000).waitingFor(Wait.forListeningPort().withStartupTimeout(Duration.ofMinutes(2)));
      kafka.start();
      s3.start();
      registry.start();
      coordinatorPort = freePort();
      coordinator = new GenericContainer<>(image("stagefarm-coordinator")).withNetwork(network)
          .withNetworkAliases("coordinator")
          .withCommand("--kafka=kafka:9092", "--s3-endpoint=http://s3:9000", "--bucket=stagefarm",
              "--insecure-registry=registry:5000", "--registry-mirror=docker.io=registry:5000",
              // a killed worker's stage is given to another after 10 s without a heartbeat
              "--lease-timeout=10",
              // what the client (on the host) follows after a restart; the container's own name is not resolvable there
              "--advertise=127.0.0.1:" + coordinatorPort,
              // in the container, beyond its loopback; the test farm's network is private
              "--allow-unauthenticated")
          .withEnv(farmEnv())
          .withCopyToContainer(Transferable.of(coordinatorKey, 0600), "/etc/stagefarm/farm.key")
          .withExposedPorts(7070)
          .waitingFor(Wait.forLogMessage(".*coordinator listening.*", 1).withStartupTimeout(Duration.ofMinutes(5)));
      coordinator.setPortBindings(List.of(coordinatorPort + ":7070"));
      coordinator.start();
      startWorkers(java.util.stream.IntStream.rangeClosed(1, workerCount).mapToObj(i -> "worker-" + i).toList());
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Starts worker containers with these ids at once (each takes 15-40 s to start here, mostly the JVM). */
  void startWorkers(List<String> ids) {
    // a thread each: the common pool has one thread on 2 cores, which started them one after another
    try (var starting = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      java.util.concurrent.CompletableFuture.allOf(ids.stream()
          .map(id -> java.util.concurrent.CompletableFuture.runAsync(() -> startWorker(id), starting))
          .toArray(java.util.concurrent.CompletableFuture[]::new)).join();
    }
  }

  /** Stops and removes every worker container: the next test of a shared farm starts its own. */
  void stopWorkers() {
    List<GenericContainer<?>> all;
    synchronized (workers) {
      all = new ArrayList<>(workers.values());
      workers.clear();
    }
    all.forEach(GenericContainer::stop);
  }

  /** Starts one more worker container named (and with the worker id) {@code id}. */
  void startWorker(String id) {
    GenericContainer<?> worker = new GenericContainer<>(image("stagefarm-worker")).withNetwork(network)
        .withNetworkAliases(id)
        .withCommand("--kafka=kafka:9092", "--s3-endpoint=http://s3:9000", "--bucket=stagefarm", "--worker-id=" + id,
            "--set", "shutdown-grace=5s")
        .withEnv(farmEnv())
        .withEnv("STAGEFARM_LOG_LEVEL", "INFO") // "slot … took build B stage S attempt A (delivery D)"
        .withCopyToContainer(Transferable.of(workerKey, 0600), "/etc/stagefarm/farm.key")
        // runc makes a cgroup per RUN; overlayfs cannot stack on the container's overlay2 root
        .withFileSystemBind("/sys/fs/cgroup", "/sys/fs/cgroup", BindMode.READ_WRITE)
        .withTmpFs(Map.of("/var/lib/stagefarm/worker", "rw,exec,size=2g"))
        .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
            .withCapAdd(Capability.ALL)
            .withCapDrop(Capability.SYS_RESOURCE)
            .withSecurityOpts(List.of("seccomp=unconfined", "apparmor=unconfined"))
            .withDeviceCgroupRules(List.of("a *:* rwm"))
            .withDevices(Device.parse("/dev/net/tun")))
        
        .waitingFor(Wait.forLogMessage(".*stagefarm worker .* running.*", 1).withStartupTimeout(Duration.ofMinutes(5)));
    synchronized (workers) {
      workers.put(id, worker);
    }
    worker.start();
  }

  private GenericContainer<?> worker(String id) {
    synchronized (workers) {
      GenericContainer<?> worker = workers.get(id);
      if (worker == null) {
        throw new IllegalArgumentException("no worker " + id + " in this farm (it has " + workers.keySet() + ")");
      }
      return worker;
    }
  }

  /** {@code docker kill} (SIGKILL) of a worker container: no goodbye, its stage is abandoned mid-way. */
  void killWorker(String id) {
    GenericContainer<?> worker = worker(id);
    worker.getDockerClient().killContainerCmd(worker.getContainerId()).exec();
  }

  /** What the worker's container printed (also after it ended). */
  String workerLogs(String id) {
    return worker(id).getLogs();
  }

  /**
   * {@code docker network disconnect} of a worker container: it keeps running (and so does its
   * stage) but reaches neither Kafka nor S3 until {@link #reconnectWorker}.
   */
  void disconnectWorker(String id) {
    GenericContainer<?> worker = worker(id);
    worker.getDockerClient().disconnectFromNetworkCmd().withNetworkId(network.getId())
        .withContainerId(worker.getContainerId()).withForce(true).exec();
  }

  /** {@code docker network connect} of a worker container {@link #disconnectWorker cut off} before. */
  void reconnectWorker(String id) {
    GenericContainer<?> worker = worker(id);
    worker.getDockerClient().connectToNetworkCmd().withNetworkId(network.getId())
        .withContainerId(worker.getContainerId()).withContainerNetwork(new ContainerNetwork().withAliases(id)).exec();
  }

  /** Whether the worker's container is still running, as the engine says. */
  boolean isRunning(String id) {
    GenericContainer<?> worker = worker(id);
    return Boolean.TRUE.equals(
        worker.getDockerClient().inspectContainerCmd(worker.getContainerId()).exec().getState().getRunning());
  }

  /** Stops the coordinator container (SIGTERM, then SIGKILL after 2 s) and starts it again. */
  void restartCoordinator() {
    coordinator.getDockerClient().restartContainerCmd(coordinator.getContainerId()).withTimeout(2).exec();
  }

  /** The coordinator container's log (what it printed since it was created, restarts included). */
  String coordinatorLogs() {
    return coordinator.getLogs();
  }

  String coordinatorAddress() {
    return "127.0.0.1:" + coordinatorPort;
  }

  /** The registry as the host (the test) reaches it. */
  String registryFromHost() {
    return "127.0.0.1:" + registry.getMappedPort(5000);
  }

  List<String> workerIds() {
    synchronized (workers) {
      return new ArrayList<>(workers.keySet());
    }
  }

  private Map<String, String> farmEnv() {
    return Map.of("STAGEFARM_S3_ACCESS_KEY", S3_ACCESS, "STAGEFARM_S3_SECRET_KEY", s3Secret,
        "STAGEFARM_FARM_KEY_FILE", "/etc/stagefarm/farm.key");
  }

  private static DockerImageName image(String name) {
    return DockerImageName.parse(name + ":" + TAG);
  }

  private static String randomKey(int bytes) {
    byte[] key = new byte[bytes];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    stopWorkers();
    for (GenericContainer<?> c : new GenericContainer<?>[] {coordinator, registry, s3, kafka}) {
      if (c != null) {
        c.stop();
      }
    }
    network.close();
  }

  static Path writeFile(Path dir, String name, String content) throws IOException {
    Files.createDirectories(dir);
    return Files.writeString(dir.resolve(name), content);
  }
}
