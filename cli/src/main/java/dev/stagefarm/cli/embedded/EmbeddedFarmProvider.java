package dev.stagefarm.cli.embedded;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.Observability;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.EmbeddedFarmSupport;
import dev.stagefarm.cli.farm.Farm;
import dev.stagefarm.cli.farm.FarmTracing;
import dev.stagefarm.cli.farm.LocalFarmDaemon;
import dev.stagefarm.cli.ops.ObservabilityServer;
import dev.stagefarm.cli.ops.Traces;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.oci.registry.RegistrySettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The embedded farm of the full distribution, found by {@link java.util.ServiceLoader} (registered
 * in {@code META-INF/services}). The only class besides {@link EmbeddedFarm} and {@link
 * LocalFarmDaemon} that names module {@code embedded}.
 */
public final class EmbeddedFarmProvider implements EmbeddedFarmSupport {

  @Override
  public Farm startOneShot(RegistrySettings registry, int workers) {
    // the one-shot farm reads no server keys: the standard OTEL_* variables turn its traces on
    Traces traces = Observability.tracesFromEnvironment(System.getenv());
    try {
      // no Kafka broker: the coordinator and workers share an in-process bus (bench/README, session 8); the
      // workers start on the first task, and make their RUN networks once a stage with a RUN starts (session 10)
      EmbeddedFarm farm = EmbeddedFarm.startForOneBuild(new EmbeddedFarm.Options(dev.stagefarm.cli.farm.FarmFlags.home(), null,
          workers, registry, EmbeddedFarm.ONE_MACHINE_KAFKA, BuildCoordinator.Settings.DEFAULT, EmbeddedFarm.IN_PROCESS,
          FarmTracing.oneShotWorkers(traces)));
      FarmTracing.coordinator(farm.coordinator(), traces);
      // Ctrl-C: stop the workers (and their containers) and the broker instead of leaving them behind
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        farm.close();
        traces.close();
      }, "stagefarm-embedded-stop"));
      return farm;
    } catch (UserError e) {
      throw e;
    } catch (Exception e) {
      throw ExitCodes.farm("starting the embedded farm failed: " + e.getMessage());
    }
  }

  @Override
  public void warmUpOneShot() {
    EmbeddedFarm.warmUpInProcessTransport();
  }

  @Override
  public int serveLocalFarm(Path home, int workers, RegistrySettings registry, Duration idleTimeout, String settings,
      PrintStream out) throws Exception {
    return LocalFarmDaemon.serve(home, workers, registry, idleTimeout, settings, out);
  }

  @Override
  public int up(UpSettings up, PrintStream out) throws Exception {
    // one registry for the process: the coordinator's meters and each worker's, tagged worker=worker-N
    MeterRegistry meters = up.observability().newRegistry();
    Traces traces = up.observability().startTraces();
    EmbeddedFarm farm;
    try {
      farm = EmbeddedFarm.start(new EmbeddedFarm.Options(up.home(), up.home().resolve("kafka"), up.workers(),
          up.registry(), EmbeddedKafka.Settings.defaults(), BuildCoordinator.Settings.DEFAULT, up.port(),
          FarmTracing.workers(traces, meters),
          up.listener().address().getAddress(), up.listener().security()));
    } catch (Exception e) {
      traces.close();
      throw new UserError("starting the farm failed: " + e.getMessage(), e);
    }
    FarmTracing.coordinator(farm.coordinator(), traces);
    ObservabilityServer metrics;
    try {
      farm.coordinator().reportTo(meters);
      metrics = up.observability().serve(meters, farm.coordinator()::whyNotLive, farm.coordinator()::whyNotReady);
    } catch (RuntimeException e) {
      farm.close();
      traces.close();
      throw e;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (metrics != null) {
        metrics.close();
      }
      farm.close();
      traces.close();
      stopped.countDown();
    }, "stagefarm-up-stop"));
    String address = up.listener().address().getAddress().getHostAddress();
    out.println("stagefarm is up");
    out.println("  coordinator (gRPC): " + address + ":"
        + farm.endpoint().substring(farm.endpoint().lastIndexOf(':') + 1) + " (" + up.listener().describe() + ")");
    out.println("                      e.g. ./stagefarm build --coordinator " + farm.endpoint() + " .");
    out.println("  kafka:              " + farm.kafkaBootstrap());
    out.println("  s3:                 " + farm.s3Endpoint() + " (bucket " + EmbeddedFarm.BUCKET + ")");
    out.println("  workers:            " + up.workers());
    if (metrics != null) {
      out.println("  metrics:            http://" + up.observability().describe(metrics) + "/metrics");
    }
    up.observability().traces().ifPresent(t -> out.println("  traces:             " + t.describe()));
    out.println("  data:               " + up.home());
    out.flush();
    stopped.await();
    return 0;
  }
}
