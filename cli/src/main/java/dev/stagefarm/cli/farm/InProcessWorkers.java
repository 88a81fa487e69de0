package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.Worker;

/**
 * Starts the embedded farm's workers in this JVM, each with its own work directory and Kafka clients,
 * all sharing one unpacked-layer store beside their work dirs ({@code <workers>/layers}): a layer is
 * extracted once for all of them, and a stage's result is local to whichever worker reads it next.
 */
public final class InProcessWorkers {
  private InProcessWorkers() {}

  public static WorkerLauncher launcher() {
    return config -> new Worker(config, config.workDir().toAbsolutePath().resolveSibling("layers")).start();
  }
}
