package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.Worker;

/** Starts the embedded farm's workers in this JVM, each with its own work directory and Kafka clients. */
public final class InProcessWorkers {
  private InProcessWorkers() {}

  public static WorkerLauncher launcher() {
    return config -> new Worker(config).start();
  }
}
