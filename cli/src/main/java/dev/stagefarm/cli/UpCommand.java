package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.ApiServerSettings;
import dev.stagefarm.cli.farm.EmbeddedFarmSupport;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.config.CommonKeys;
import dev.stagefarm.config.ConfigLoader;
import dev.stagefarm.config.ConfigValues;
import dev.stagefarm.config.CoordinatorKeys;
import dev.stagefarm.config.UpKeys;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
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
    EmbeddedFarmSupport embedded = EmbeddedFarmSupport.require("stagefarm up");
    Observability observability =
        Observability.parse(v.get(CommonKeys.METRICS_LISTEN), v.get(CommonKeys.LOG_FORMAT))
            .withTraces(v, System.getenv());
    return embedded.up(new EmbeddedFarmSupport.UpSettings(home, workers,
        FarmFlags.registrySettings(v.getOrDefault(CoordinatorKeys.INSECURE_REGISTRY, List.of()),
            v.getOrDefault(CoordinatorKeys.REGISTRY_MIRROR, List.of())),
        port, listener, observability), System.out);
  }
}
