package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.runtime.OciBundle;
import dev.stagefarm.worker.runtime.Runc;
import dev.stagefarm.worker.store.CacheRecords;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Wires a {@link StageExecutor} from a worker's config and work dir layout. */
public final class StageExecutors {
  private StageExecutors() {}

  /**
   * @param layout where the worker keeps its state
   * @param nofileHardLimit the process' hard RLIMIT_NOFILE (containers may not exceed it)
   */
  public static StageExecutor create(WorkerConfig config, WorkDir layout, ContentStore store, CacheRecords records,
      LayerCache layers, long nofileHardLimit) throws IOException {
    String resolvConf = Files.exists(Path.of("/etc/resolv.conf")) ? Files.readString(Path.of("/etc/resolv.conf")) : "";
    RunEnvironment environment = new RunEnvironment(
        new Runc(config.runc(), layout.runcState()),
        new OciBundle(nofileHardLimit, config.runLimits()),
        Files.createDirectories(layout.cacheMounts()),
        config.secretsDir(),
        config.network().equals("host"),
        resolvConf,
        config.allowInsecure());
    return new StageExecutor(store, records, layers, environment, Files.createDirectories(layout.stages()),
        "sf-" + Integer.toHexString(config.workerId().hashCode()),
        new StageExecutor.OutputLimits(config.logRateBytesPerSecond(), config.logMaxBytes()), config.addUrlMaxBytes());
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
  }
}
