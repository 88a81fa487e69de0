package dev.stagefarm.worker.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The limits every sandboxed RUN on a worker gets (worker settings {@code run-memory}, {@code
 * run-pids}, {@code run-cpus}: cgroups) and the disk each stage gets ({@code stage-disk}). Zero
 * means no limit of that kind.
 *
 * @param memoryBytes memory of the RUN's processes together, page cache included; swap is not
 *     granted on top (memory+swap = the same limit), so a hog is OOM-killed instead of swapping
 * @param pids processes and threads alive at once
 * @param cpus CPU time as a number of cores (CFS quota over a 100 ms period)
 * @param stageDiskBytes what one stage may write in all (its layers' files; worker setting {@code
 *     stage-disk}): its writable state lives on a {@link StageDisk} of this size
 */
public record RunLimits(long memoryBytes, long pids, double cpus, long stageDiskBytes) {
  private static final long CFS_PERIOD_MICROS = 100_000;

  public RunLimits {
    if (memoryBytes < 0 || pids < 0 || cpus < 0 || stageDiskBytes < 0) {
      throw new IllegalArgumentException("run limits must not be negative");
    }
  }

  /** cgroup limits only, no stage disk. */
  public RunLimits(long memoryBytes, long pids, double cpus) {
    this(memoryBytes, pids, cpus, 0);
  }

  /** No limits: what a worker had before these settings existed. */
  public static RunLimits none() {
    return new RunLimits(0, 0, 0, 0);
  }

  public RunLimits withStageDisk(long bytes) {
    return new RunLimits(memoryBytes, pids, cpus, bytes);
  }

  /** Fills the OCI {@code linux.resources} object. */
  void writeTo(ObjectNode resources) {
    if (memoryBytes > 0) {
      resources.putObject("memory").put("limit", memoryBytes).put("swap", memoryBytes);
    }
    if (pids > 0) {
      resources.putObject("pids").put("limit", pids);
    }
    if (cpus > 0) {
      resources.putObject("cpu").put("quota", Math.max(1000, Math.round(cpus * CFS_PERIOD_MICROS)))
          .put("period", CFS_PERIOD_MICROS);
    }
  }

  /** {@code run-memory=256MiB}, as the user would write the setting. */
  public String memorySetting() {
    return "run-memory=" + Sizes.format(memoryBytes);
  }

  public String pidsSetting() {
    return "run-pids=" + pids;
  }
}
