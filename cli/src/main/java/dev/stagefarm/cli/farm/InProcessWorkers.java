package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.metrics.WorkerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * Starts the embedded farm's workers in this JVM, each with its own work directory and Kafka clients,
 * all sharing one unpacked-layer store beside their work dirs ({@code <workers>/layers}): a layer is
 * extracted once for all of them, and a stage's result is local to whichever worker reads it next.
 */
public final class InProcessWorkers {
  private InProcessWorkers() {}

  public static WorkerLauncher launcher() {
    return launcher(false);
  }

  /**
   * @param networksOnDemand whether each worker makes its RUN networks once a stage with a RUN starts rather than
   *     at its start ({@link Worker#networksOnDemand()}: the one-shot farm's)
   */
  public static WorkerLauncher launcher(boolean networksOnDemand) {
    return config -> start(new Worker(config, layerStore(config)), networksOnDemand);
  }

  /** Workers that count into {@code registry}, each worker's meters tagged {@code worker=<its id>}. */
  public static WorkerLauncher launcher(MeterRegistry registry) {
    return launcher(registry, false);
  }

  /** As {@link #launcher(MeterRegistry)}; {@code networksOnDemand} as {@link #launcher(boolean)}. */
  public static WorkerLauncher launcher(MeterRegistry registry, boolean networksOnDemand) {
    return config -> start(new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))), networksOnDemand);
  }

  /** As {@link #launcher(MeterRegistry)}, each worker recording its spans with {@code tracing} ("Traces"). */
  public static WorkerLauncher launcher(MeterRegistry registry, io.opentelemetry.api.OpenTelemetry tracing) {
    return launcher(registry, tracing, false);
  }

  /** As {@link #launcher(MeterRegistry, io.opentelemetry.api.OpenTelemetry)}; {@code networksOnDemand} as above. */
  public static WorkerLauncher launcher(MeterRegistry registry, io.opentelemetry.api.OpenTelemetry tracing,
      boolean networksOnDemand) {
    return config -> start(new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))).traceTo(tracing), networksOnDemand);
  }

  private static Worker start(Worker worker, boolean networksOnDemand) {
    return (networksOnDemand ? worker.networksOnDemand() : worker).start();
  }

  private static java.nio.file.Path layerStore(dev.stagefarm.worker.config.WorkerConfig config) {
    return config.workDir().toAbsolutePath().resolveSibling("layers");
  }
}
