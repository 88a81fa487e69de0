package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.runtime.OciBundle;
import dev.stagefarm.worker.runtime.Runc;
import dev.stagefarm.worker.runtime.RunNetworkPool;
import dev.stagefarm.worker.runtime.SandboxNetwork;
import dev.stagefarm.worker.runtime.SandboxPool;
import dev.stagefarm.worker.runtime.StageDisk;
import dev.stagefarm.worker.store.CacheRecords;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Wires a {@link StageExecutor} from a worker's config and work dir layout. */
public final class StageExecutors {
  private static final String SLIRP4NETNS = "slirp4netns";
  private StageExecutors() {}

  /**
   * @param layout where the worker keeps its state
   * @param runNetworks the pool the RUNs take their sandbox networks from (the worker's own is in its work dir:
   *     {@link WorkDir#networks()})
   * @param nofileHardLimit the process' hard RLIMIT_NOFILE (containers may not exceed it)
   */
  public static StageExecutor create(WorkerConfig config, WorkDir layout, RunNetworkPool runNetworks,
      ContentStore store, CacheRecords records, LayerCache layers, long nofileHardLimit) throws IOException {
    if (config.runLimits().stageDiskBytes() > 0 && !StageDisk.available()) {
      // fail at start, not as a fault of every stage
      throw new IOException("stage-disk needs mkfs.ext4 and loop devices (apt-get install e2fsprogs; /dev/loop-control),"
          + " or set stage-disk: 0");
    }
    String resolvConf = Files.exists(Path.of("/etc/resolv.conf")) ? Files.readString(Path.of("/etc/resolv.conf")) : "";
    RunEnvironment environment = new RunEnvironment(
        new Runc(config.runc(), layout.runcState()),
        new OciBundle(nofileHardLimit, config.runLimits()),
        Files.createDirectories(layout.cacheMounts()),
        networks(config, resolvConf, layout, runNetworks),
        config.allowInsecure());
    return new StageExecutor(store, records, layers, environment, Files.createDirectories(layout.stages()),
        containerPrefix(config.workerId(), layout),
        new StageExecutor.OutputLimits(config.logRateBytesPerSecond(), config.logMaxBytes()), config.addUrlMaxBytes(),
        config.farmKeys());
  }

  /**
   * The prefix of the worker's runc container ids. runc names a container's cgroups after its id (no
   * cgroupsPath is set), so the id must be unique on the host, not only in this worker's runc root:
   * two farms whose workers share an id ("worker-0" of two local or test farms) would otherwise put
   * two RUNs in one cgroup (shared limits, one's limit events read as the other's).
   */
  static String containerPrefix(String workerId, WorkDir layout) {
    return "sf-" + Integer.toHexString((workerId + "\0" + layout.root().toAbsolutePath()).hashCode());
  }

  private static RunNetworks networks(WorkerConfig config, String hostResolvConf, WorkDir layout,
      RunNetworkPool runNetworks) throws IOException {
    RunNetworks.Mode mode = RunNetworks.Mode.valueOf(config.network().toUpperCase(java.util.Locale.ROOT));
    if (mode == RunNetworks.Mode.SANDBOX && !SandboxNetwork.available(SLIRP4NETNS)) {
      // fail at start, not as a fault of every RUN: retries elsewhere would hide a misconfigured worker
      throw new IOException("the RUN network (network: sandbox) needs " + SLIRP4NETNS
          + " on PATH: apt-get install slirp4netns, or set network: none");
    }
    SandboxNetwork network = new SandboxNetwork(SLIRP4NETNS);
    if (mode != RunNetworks.Mode.SANDBOX) {
      // network: none or host: no RUN of this worker gets the sandbox, so none is kept ready
      return new RunNetworks(mode, config.allowHostNetwork(), hostResolvConf,
          new SandboxPool(network, layout.networks(), 0).start());
    }
    return new RunNetworks(mode, config.allowHostNetwork(), hostResolvConf,
        runNetworks.open(network, layout.networks(), config.concurrency()));
  }

  /** The work dir's layout: every path the worker writes. */
  public record WorkDir(Path root) {
    public Path layers() {
      return root.resolve("layers");
    }

    public Path stages() {
      return root.resolve("stages");
    }

    public Path cacheMounts() {
      return root.resolve("cache-mounts");
    }

    public Path runcState() {
      return root.resolve("runc");
    }

    /** Where the RUN network namespaces kept ready are bound. */
    public Path networks() {
      return root.resolve("netns");
    }
  }
}
