package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.ApiServerSettings;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.config.ConfigLoader;
import dev.stagefarm.config.ConfigValues;
import dev.stagefarm.config.CoordinatorKeys;
import dev.stagefarm.config.UpKeys;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code stagefarm up}: the all-in-one farm as a long-running service. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    modelTransformer = UpCommand.Options.class,
    description = "Run an all-in-one farm (Kafka, S3, coordinator, workers) until interrupted.")
public final class UpCommand implements Callable<Integer> {

  /** The flags of {@code up}'s key table. */
  public static final class Options implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      return ConfigOptions.addTo(spec, UpKeys.DEF);
    }
  }

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    ConfigOptions.Given given = ConfigOptions.given(spec, UpKeys.DEF);
    ConfigValues v;
    try {
      v = ConfigLoader.load(UpKeys.DEF, given.file(), System.getenv(), given.flags());
    } catch (dev.stagefarm.config.ConfigException e) {
      throw new UserError(e.getMessage());
    }
    if (given.printConfig()) {
      ConfigOptions.print(v, System.out);
      return 0;
    }
    int port = v.get(CoordinatorKeys.PORT);
    int workers = v.get(UpKeys.WORKERS);
    Path home = v.getOrDefault(UpKeys.DATA, FarmFlags.home());
    ApiServerSettings.Listener listener = ApiServerSettings.of(v).listener(port);
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
                  FarmFlags.registrySettings(v.getOrDefault(CoordinatorKeys.INSECURE_REGISTRY, List.of()),
                      v.getOrDefault(CoordinatorKeys.REGISTRY_MIRROR, List.of())),
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
