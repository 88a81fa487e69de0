package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The flags of a command that talks to a running farm (ls, logs, cancel, du, prune): where its
 * coordinators are, and TLS and credentials as for {@code stagefarm build}.
 */
public final class FarmConnection {
  @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT…]", defaultValue = "${env:STAGEFARM_COORDINATOR}",
      description = "The farm's coordinator (several: a farm in HA). Also STAGEFARM_COORDINATOR.")
  String coordinator;

  @Mixin ApiClientFlags apiClientFlags;

  /**
   * @param command for the message when no coordinator is given, e.g. {@code "stagefarm ls"}
   * @throws UserError without a coordinator, or for flags that do not fit together
   */
  public RemoteFarm open(String command) {
    if (coordinator == null || coordinator.isBlank()) {
      throw new UserError(command + " talks to a running farm: pass --coordinator HOST:PORT (or set STAGEFARM_COORDINATOR)");
    }
    return RemoteFarm.connect(coordinator, apiClientFlags);
  }
}
