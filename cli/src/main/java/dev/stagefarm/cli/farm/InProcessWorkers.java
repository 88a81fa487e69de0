package dev.stagefarm.cli.farm;

/**
 * Starts the embedded farm's workers in this JVM. Adapter over the worker module's entry point;
 * the worker module does not have one yet, so starting fails with a clear message.
 */
public final class InProcessWorkers {
  private InProcessWorkers() {}

  public static WorkerLauncher launcher() {
    return config -> {
      throw new IllegalStateException("the worker module has no in-process entry point yet (dev.stagefarm.worker.Worker)");
    };
  }
}
