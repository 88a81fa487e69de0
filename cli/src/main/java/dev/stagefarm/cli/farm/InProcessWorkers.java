package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.metrics.WorkerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * Starts the embedded farm's workers in this JVM, each with its own work directory and Kafka clients,
 * all sharing one unpacked-layer store beside their work dirs ({@code <workers>/layers}): a layer is
 * extracted once for all of them, and a stage's result is local to whichever worker reads it next. They
 * share one pool of sandbox networks made ahead ({@code <workers>/netns}): a burst's worth and a spare,
 * not two slirp4netns processes per single-slot worker.
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
    return config -> start(new Worker(config, layerStore(config)), config, networksOnDemand);
  }

  /** Workers that count into {@code registry}, each worker's meters tagged {@code worker=<its id>}. */
  public static WorkerLauncher launcher(MeterRegistry registry) {
    return launcher(registry, false);
  }

  /** As {@link #launcher(MeterRegistry)}; {@code networksOnDemand} as {@link #launcher(boolean)}. */
  public static WorkerLauncher launcher(MeterRegistry registry, boolean networksOnDemand) {
    return config -> start(new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))), config, networksOnDemand);
  }

  /** As {@link #launcher(MeterRegistry)}, each worker recording its spans with {@code tracing} ("Traces"). */
  public static WorkerLauncher launcher(MeterRegistry registry, io.opentelemetry.api.OpenTelemetry tracing) {
    return launcher(registry, tracing, false);
  }

  /** As {@link #launcher(MeterRegistry, io.opentelemetry.api.OpenTelemetry)}; {@code networksOnDemand} as above. */
  public static WorkerLauncher launcher(MeterRegistry registry, io.opentelemetry.api.OpenTelemetry tracing,
      boolean networksOnDemand) {
    return config -> start(new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))).traceTo(tracing), config,
        networksOnDemand);
  }

  private static Worker start(Worker worker, dev.stagefarm.worker.config.WorkerConfig config,
      boolean networksOnDemand) {
    // the one-shot farm's workers make their own networks when a stage needs them; the others share one pool
    return (networksOnDemand ? worker.networksOnDemand() : worker.sharingRunNetworks(runNetworks(config))).start();
  }

  private static java.nio.file.Path layerStore(dev.stagefarm.worker.config.WorkerConfig config) {
    return config.workDir().toAbsolutePath().resolveSibling("layers");
  }

  /** Beside the work dirs, not in one: a worker's start-up cleanup unmounts what is under its work dir. */
  private static java.nio.file.Path runNetworks(dev.stagefarm.worker.config.WorkerConfig config) {
    return config.workDir().toAbsolutePath().resolveSibling("netns");
  }
}
