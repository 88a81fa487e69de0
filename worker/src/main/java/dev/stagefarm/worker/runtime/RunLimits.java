package dev.stagefarm.worker.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The cgroup limits every sandboxed RUN on a worker gets (worker settings {@code run-memory},
 * {@code run-pids}, {@code run-cpus}). Zero means no limit of that kind.
 *
 * @param memoryBytes memory of the RUN's processes together, page cache included; swap is not
 *     granted on top (memory+swap = the same limit), so a hog is OOM-killed instead of swapping
 * @param pids processes and threads alive at once
 * @param cpus CPU time as a number of cores (CFS quota over a 100 ms period)
 */
public record RunLimits(long memoryBytes, long pids, double cpus) {
  private static final long CFS_PERIOD_MICROS = 100_000;

  public RunLimits {
    if (memoryBytes < 0 || pids < 0 || cpus < 0) {
      throw new IllegalArgumentException("run limits must not be negative");
    }
  }

  /** No limits: what a worker had before these settings existed. */
  public static RunLimits none() {
    return new RunLimits(0, 0, 0);
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
    return "run-memory=" + size(memoryBytes);
  }

  public String pidsSetting() {
    return "run-pids=" + pids;
  }

  private static String size(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    long n = bytes;
    while (unit < units.length - 1 && n >= 1024 && n % 1024 == 0) {
      n /= 1024;
      unit++;
    }
    return n + units[unit];
  }
}
