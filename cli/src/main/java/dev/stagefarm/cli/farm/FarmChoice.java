package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.embedded.EmbeddedKafka;
import java.time.Duration;
import java.util.Map;

/**
 * Which farm a client command talks to ({@code build}, {@code bake}): the coordinators given with
 * {@code --coordinator}, or an embedded farm started in this process.
 */
public final class FarmChoice {
  private FarmChoice() {}

  /**
   * @param coordinator {@code --coordinator}, or null for an embedded farm
   * @param workers the embedded farm's workers
   */
  public static Farm open(String coordinator, ApiClientFlags apiClientFlags, FarmFlags farmFlags, int workers)
      throws Exception {
    if (coordinator != null && !coordinator.isBlank()) {
      return RemoteFarm.connect(coordinator, apiClientFlags);
    }
    try {
      EmbeddedFarm farm = startEmbedded(farmFlags, workers);
      // Ctrl-C: stop the workers (and their containers) and the broker instead of leaving them behind
      Runtime.getRuntime().addShutdownHook(new Thread(farm::close, "stagefarm-embedded-stop"));
      return farm;
    } catch (UserError e) {
      throw e;
    } catch (Exception e) {
      throw dev.stagefarm.cli.ExitCodes.farm("starting the embedded farm failed: " + e.getMessage());
    }
  }

  private static EmbeddedFarm startEmbedded(FarmFlags farmFlags, int workers) throws Exception {
    return EmbeddedFarm.start(
          new EmbeddedFarm.Options(
              FarmFlags.home(),
              null,
              workers,
              farmFlags.registrySettings(),
              // short share-group heartbeats, so the workers of a one-shot farm join within seconds;
              // default record locks and a session timeout that survives a loaded machine
              new EmbeddedKafka.Settings(
                  Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofMillis(500), Duration.ofSeconds(20), Map.of()),
              BuildCoordinator.Settings.DEFAULT,
              EmbeddedFarm.IN_PROCESS,
              InProcessWorkers.launcher()));
  }
}
