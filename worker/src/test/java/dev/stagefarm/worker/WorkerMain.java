package dev.stagefarm.worker;

import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.runtime.RunLimits;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real worker in a child JVM, so a test can SIGKILL it mid-stage.
 * Args: kafka, s3 endpoint, access key, secret key, bucket, work dir, worker id. Its RUNs have a pids
 * limit of {@link #DOOMED_PIDS}, so a test's RUN can tell it from the other workers.
 */
public final class WorkerMain {
  static final int DOOMED_PIDS = 4000;

  public static void main(String[] args) throws InterruptedException {
    WorkerConfig config = WorkerConfig.of(args[0], args[1], args[2], args[3], args[4], Path.of(args[5]))
        .withWorkerId(args[6])
        .withRunLimits(new RunLimits(2L << 30, DOOMED_PIDS, Runtime.getRuntime().availableProcessors()))
        .withTimings(Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofSeconds(5))
        .withFarmKeys(StageHarness.FARM_KEYS);
    new Worker(config).start();
    System.out.println("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}
