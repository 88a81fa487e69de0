package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.metrics.WorkerMetrics;
import dev.stagefarm.worker.runtime.RunNetworkPool;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * Starts the embedded farm's workers in this JVM, each with its own work directory and Kafka clients,
 * all sharing one unpacked-layer store beside their work dirs ({@code <workers>/layers}): a layer is
 * extracted once for all of them, and a stage's result is local to whichever worker reads it next. Unless
 * told otherwise ({@link Networks}), they share one pool of sandbox networks made ahead ({@code <workers>/netns}):
 * a burst's worth and a spare, not two slirp4netns processes per single-slot worker.
 */
public final class InProcessWorkers {
  private InProcessWorkers() {}

  /** Where the workers' RUNs take their sandbox networks from. */
  public enum Networks {
    /** One pool for all of them beside their work dirs ({@code <workers>/netns}), made at their start. */
    SHARED,
    /** Each worker's own, made once a stage with a RUN starts: the one-shot farm's, whose workers may run none. */
    EACH_ON_DEMAND;

    RunNetworkPool poolOf(WorkerConfig config) {
      // beside the work dirs, not in one: a worker's start-up cleanup unmounts what is under its work dir
      return this == SHARED ? RunNetworkPool.sharedIn(config.workDir().toAbsolutePath().resolveSibling("netns"))
          : RunNetworkPool.ownOnDemand();
    }
  }

  public static WorkerLauncher launcher() {
    return launcher(Networks.SHARED);
  }

  /** @param networks where the workers' RUN networks come from */
  public static WorkerLauncher launcher(Networks networks) {
    return config -> start(new Worker(config, layerStore(config)), config, networks);
  }

  /** Workers that count into {@code registry}, each worker's meters tagged {@code worker=<its id>}. */
  public static WorkerLauncher launcher(MeterRegistry registry) {
    return launcher(registry, Networks.SHARED);
  }

  /** As {@link #launcher(MeterRegistry)}; {@code networks} as {@link #launcher(Networks)}. */
  public static WorkerLauncher launcher(MeterRegistry registry, Networks networks) {
    return config -> start(new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))), config, networks);
  }

  /** As {@link #launcher(MeterRegistry)}, each worker recording its spans with {@code tracing} ("Traces"). */
  public static WorkerLauncher launcher(MeterRegistry registry, io.opentelemetry.api.OpenTelemetry tracing) {
    return launcher(registry, tracing, Networks.SHARED);
  }

  /** As {@link #launcher(MeterRegistry, io.opentelemetry.api.OpenTelemetry)}; {@code networks} as above. */
  public static WorkerLauncher launcher(MeterRegistry registry, io.opentelemetry.api.OpenTelemetry tracing,
      Networks networks) {
    return config -> start(new Worker(config, layerStore(config),
        new WorkerMetrics(registry, Tags.of("worker", config.workerId()))).traceTo(tracing), config, networks);
  }

  private static Worker start(Worker worker, WorkerConfig config, Networks networks) {
    return worker.runNetworksFrom(networks.poolOf(config)).start();
  }

  private static java.nio.file.Path layerStore(WorkerConfig config) {
    return config.workDir().toAbsolutePath().resolveSibling("layers");
  }
}
