package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.ApiServerFlags;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stagefarm up}: the all-in-one farm as a long-running service. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description = "Run an all-in-one farm (Kafka, S3, coordinator, workers) until interrupted.")
public final class UpCommand implements Callable<Integer> {
  @Option(names = "--port", description = "gRPC port of the coordinator (default: 7070).")
  int port = 7070;

  @Option(names = "--workers", paramLabel = "N", description = "Number of workers (default: 2).")
  int workers = 2;

  @Option(names = "--data", paramLabel = "DIR", description = "Data directory (default: $STAGEFARM_HOME or ~/.cache/stagefarm).")
  Path data;

  @Mixin FarmFlags farmFlags;

  @Mixin ApiServerFlags api;

  @Override
  public Integer call() throws Exception {
    Path home = data != null ? data : FarmFlags.home();
    ApiServerFlags.Listener listener = api.listener(port);
    if (!listener.loopbackOnly() && !listener.security().authenticates()) {
      // the all-in-one farm is for one machine: its open port would hand out its builds and its registry credentials
      throw new UserError("stagefarm up listens beyond loopback only with authentication (--tokens-file or"
          + " --tls-client-ca); --allow-unauthenticated is for stagefarm coordinator");
    }
    listener.serverBuilder(); // an unreadable certificate fails here, before the farm starts
    EmbeddedFarm farm;
    try {
      farm =
          EmbeddedFarm.start(
              new EmbeddedFarm.Options(
                  home,
                  home.resolve("kafka"),
                  workers,
                  farmFlags.registrySettings(),
                  EmbeddedKafka.Settings.defaults(),
                  BuildCoordinator.Settings.DEFAULT,
                  port,
                  InProcessWorkers.launcher(),
                  listener.address().getAddress(),
                  listener.security()));
    } catch (Exception e) {
      throw new UserError("starting the farm failed: " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      farm.close();
      stopped.countDown();
    }, "stagefarm-up-stop"));
    System.out.println("stagefarm is up");
    System.out.println("  coordinator (gRPC): " + listener.address().getAddress().getHostAddress() + ":"
        + farm.endpoint().substring(farm.endpoint().lastIndexOf(':') + 1) + " (" + listener.describe() + ")");
    System.out.println("                      e.g. ./stagefarm build --coordinator " + farm.endpoint() + " .");
    System.out.println("  kafka:              " + farm.kafkaBootstrap());
    System.out.println("  s3:                 " + farm.s3Endpoint() + " (bucket " + EmbeddedFarm.BUCKET + ")");
    System.out.println("  workers:            " + workers);
    System.out.println("  data:               " + home);
    System.out.flush();
    stopped.await();
    return 0;
  }
}
