package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.ops.Traces;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.trace.BuildTracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/**
 * Traces of the farms that run the coordinator and the workers in this JVM ({@code stagefarm up},
 * {@code --one-shot}, the local farm): the coordinator's spans as {@link Traces#COORDINATOR}, the
 * workers' as {@link Traces#WORKER}, both through the process's one export.
 */
public final class FarmTracing {
  private FarmTracing() {}

  /** The workers' launcher: tracing with {@code traces} when it is on. */
  public static WorkerLauncher workers(Traces traces, MeterRegistry meters) {
    return traces.enabled() ? InProcessWorkers.launcher(meters, traces.role(Traces.WORKER))
        : InProcessWorkers.launcher(meters);
  }

  /** As {@link #workers(Traces, MeterRegistry)} for a farm whose meters nobody reads. */
  public static WorkerLauncher workers(Traces traces) {
    return traces.enabled() ? workers(traces, new CompositeMeterRegistry()) : InProcessWorkers.launcher();
  }

  /**
   * As {@link #workers(Traces)} for the one-shot farm: workers whose RUN networks are made once a stage with a
   * RUN starts, not at their start ({@link InProcessWorkers.Networks#EACH_ON_DEMAND}).
   */
  public static WorkerLauncher oneShotWorkers(Traces traces) {
    return traces.enabled()
        ? InProcessWorkers.launcher(new CompositeMeterRegistry(), traces.role(Traces.WORKER),
            InProcessWorkers.Networks.EACH_ON_DEMAND)
        : InProcessWorkers.launcher(InProcessWorkers.Networks.EACH_ON_DEMAND);
  }

  /**
   * The farm's coordinator records its builds' spans with {@code traces} from now on, when it is on.
   * Takes the coordinator, not the farm: only the embedded farm's classes may name EmbeddedFarm
   * (EmbeddedFarmBoundaryTest).
   */
  public static void coordinator(CoordinatorNode coordinator, Traces traces) {
    if (traces.enabled()) {
      coordinator.traceTo(BuildTracing.with(traces.role(Traces.COORDINATOR)));
    }
  }
}
