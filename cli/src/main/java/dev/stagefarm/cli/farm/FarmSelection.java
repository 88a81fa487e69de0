package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.DurationConverter;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Which farm a build goes to (a mixin of {@code stagefarm build}): the coordinators of
 * {@code --coordinator}; else the local background farm ({@link LocalFarm}), started on first use;
 * or, with {@code --one-shot}, an embedded farm in this process for this build only.
 */
public final class FarmSelection {
  @Option(names = "--one-shot",
      description = "Run an embedded farm in this process for this build only, instead of the local background farm.")
  public boolean oneShot;

  @Option(names = "--farm-idle-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "When this build starts the local farm: stop it after this long without builds (default: 1h).")
  Duration idleTimeout = LocalFarm.DEFAULT_IDLE_TIMEOUT;

  /**
   * @param coordinator {@code --coordinator}, or null
   * @param workers workers of the local or one-shot farm
   */
  public Farm open(String coordinator, ApiClientFlags api, FarmFlags farmFlags, int workers, PrintStream err)
      throws Exception {
    if (coordinator != null && !coordinator.isBlank()) {
      return RemoteFarm.connect(coordinator, api);
    }
    if (oneShot) {
      return oneShot(farmFlags, workers);
    }
    List<String> registryFlags = new ArrayList<>();
    farmFlags.registrySettings(); // a malformed flag fails here, not in the daemon
    farmFlags.insecureRegistries.forEach(r -> registryFlags.addAll(List.of("--insecure-registry", r)));
    farmFlags.registryMirrors.forEach(m -> registryFlags.addAll(List.of("--registry-mirror", m)));
    return new LocalFarm(LocalFarmState.forHome(FarmFlags.home()))
        .connect(new LocalFarm.Settings(FarmFlags.home(), workers, registryFlags, idleTimeout), err);
  }

  /**
   * For a build without {@code --coordinator}: fails, before any progress line, when its farm would
   * have to start in this distribution but cannot (the thin client: {@code --one-shot}, or no local
   * farm running yet).
   */
  public void checkCanStart() {
    if (EmbeddedFarmSupport.available()) {
      return;
    }
    if (oneShot) {
      EmbeddedFarmSupport.require(ONE_SHOT);
    } else if (LocalFarmState.forHome(FarmFlags.home()).read().isEmpty()) {
      EmbeddedFarmSupport.require(LocalFarm.STARTING);
    }
  }

  private static final String ONE_SHOT = "--one-shot";

  private static Farm oneShot(FarmFlags farmFlags, int workers) {
    return EmbeddedFarmSupport.require(ONE_SHOT).startOneShot(farmFlags.registrySettings(), workers);
  }
}
