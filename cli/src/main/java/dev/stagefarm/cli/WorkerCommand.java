package dev.stagefarm.cli;

import dev.stagefarm.cli.ops.ObservabilityServer;
import dev.stagefarm.cli.ops.Traces;
import dev.stagefarm.config.CommonKeys;
import dev.stagefarm.config.ConfigValues;
import dev.stagefarm.config.WorkerKeys;
import dev.stagefarm.worker.Worker;
import dev.stagefarm.worker.config.ConfigException;
import dev.stagefarm.worker.config.WorkerConfig;
import dev.stagefarm.worker.config.WorkerConfigLoader;
import dev.stagefarm.worker.metrics.WorkerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code stagefarm worker}: one worker against an external Kafka and S3. Every key of {@link WorkerKeys#DEF}
 * is a flag, a {@code STAGEFARM_*} environment variable and a key of the YAML file of {@code --config};
 * flags win, then the environment, then the file (docs/configuration.md).
 */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    modelTransformer = WorkerCommand.Options.class,
    description = "Run a worker: take stage tasks from Kafka, execute them with runc, upload layers to S3.")
public final class WorkerCommand implements Callable<Integer> {

  /** The worker's flags, one per key of its table. */
  public static final class Options implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      return ConfigOptions.addTo(spec, WorkerKeys.DEF);
    }
  }

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    ConfigOptions.Given given = ConfigOptions.given(spec, WorkerKeys.DEF);
    Map<String, String> env = System.getenv();
    WorkerConfig config;
    Observability observability;
    try {
      ConfigValues values = WorkerConfigLoader.values(given.file(), env, given.flags());
      if (given.printConfig()) {
        ConfigOptions.print(values, System.out);
        return 0;
      }
      observability = Observability.parse(values.get(CommonKeys.METRICS_LISTEN), values.get(CommonKeys.LOG_FORMAT))
          .withTraces(values, env);
      config = WorkerConfigLoader.build(values, env);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
    MeterRegistry registry = observability.newRegistry();
    Traces traces = observability.startTraces();
    Worker worker = new Worker(config, new WorkerMetrics(registry));
    if (traces.enabled()) {
      worker.traceTo(traces.role(Traces.WORKER));
    }
    // serving before the start: a starting worker answers /readyz with 503
    ObservabilityServer metrics = observability.serve(registry, worker::whyNotLive, worker::whyNotReady);
    try {
      worker.start();
    } catch (RuntimeException e) {
      if (metrics != null) {
        metrics.close();
      }
      traces.close();
      throw new UserError(e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.close(); // graceful: running stages finish or are released to other workers
      if (metrics != null) {
        metrics.close();
      }
      traces.close(); // last: the stages' spans ended with the worker
      stopped.countDown();
    }, "stagefarm-worker-stop"));
    if (metrics != null) {
      System.err.println("metrics on http://" + observability.describe(metrics) + "/metrics");
    }
    observability.traces().ifPresent(t -> System.err.println("traces to " + t.describe()));
    System.err.println("stagefarm worker " + worker.id() + " running (" + config.concurrency() + " slot(s)); Ctrl-C stops it");
    stopped.await();
    return 0;
  }
}
