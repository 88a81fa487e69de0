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
    return config -> new Worker(config, layerStore(config)).sharingRunNetworks(runNetworks(config)).start();
  }

  /** Workers that count into {@code registry}, each worker's meters tagged {@code worker=<its id>}. */
  public static WorkerLauncher launcher(MeterRegistry registry) {
    return config -> new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))).sharingRunNetworks(runNetworks(config))
        .start();
  }

  /** As {@link #launcher(MeterRegistry)}, each worker recording its spans with {@code tracing} ("Traces"). */
  public static WorkerLauncher launcher(MeterRegistry registry, io.opentelemetry.api.OpenTelemetry tracing) {
    return config -> new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))).traceTo(tracing)
        .sharingRunNetworks(runNetworks(config)).start();
  }

  private static java.nio.file.Path layerStore(dev.stagefarm.worker.config.WorkerConfig config) {
    return config.workDir().toAbsolutePath().resolveSibling("layers");
  }

  /** Beside the work dirs, not in one: a worker's start-up cleanup unmounts what is under its work dir. */
  private static java.nio.file.Path runNetworks(dev.stagefarm.worker.config.WorkerConfig config) {
    return config.workDir().toAbsolutePath().resolveSibling("netns");
  }
}
