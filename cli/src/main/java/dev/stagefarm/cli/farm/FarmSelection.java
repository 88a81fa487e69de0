package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.DurationConverter;
import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.RunContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * Which farm a build goes to, and for whom (a mixin of {@code stagefarm build} and {@code bake}): the
 * coordinators of {@code --coordinator}; else the local background farm ({@link LocalFarm}), started
 * on first use; or, with {@code --one-shot}, an embedded farm in this process for this build only.
 * It carries the farm's flags and the run the command serves ({@link #runIn}): this process's, or a
 * thin client's when the local farm runs the command line for it ({@link LocalFarmRuns}).
 */
public final class FarmSelection {
  @Mixin FarmFlags farmFlags;

  @Mixin ApiClientFlags apiClientFlags;

  /** The caller's streams, environment and directory. */
  private RunContext run = RunContext.process();

  @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT…]",
      defaultValue = "${env:STAGEFARM_COORDINATOR}",
      description = "Use this coordinator instead of the local farm; with several (a farm in HA), the client"
          + " follows the active one (default: $STAGEFARM_COORDINATOR).")
  String coordinator;

  @Option(names = "--workers", paramLabel = "N", description = "Workers of the local farm (default: "
      + LocalFarm.DEFAULT_WORKERS + ") or of the one-shot farm (default: " + ONE_SHOT_WORKERS + ").")
  Integer workers;

  @Option(names = "--one-shot",
      description = "Run an embedded farm in this process for this build only, instead of the local background farm.")
  public boolean oneShot;

  @Option(names = "--farm-idle-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "When this build starts the local farm: stop it after this long without builds (default: 1h).")
  Duration idleTimeout = LocalFarm.DEFAULT_IDLE_TIMEOUT;

  /** Refuses flags that cannot work, before anything starts (exit 2). */
  public void check() {
    if (workers != null && workers < 1) {
      throw ExitCodes.usage("--workers must be at least 1");
    }
  }

  /**
   * The workers of the farm this build starts or uses: {@code --workers}, else the local farm's
   * default (idle slots cost next to nothing on its in-process bus, so as many as a wide fan-out
   * runs at once) or the one-shot farm's (each worker's start is on the build's path).
   */
  public int workers() {
    return workers != null ? workers : oneShot ? ONE_SHOT_WORKERS : LocalFarm.DEFAULT_WORKERS;
  }

  /** Whether {@code --coordinator} (or {@code $STAGEFARM_COORDINATOR}) names a farm to connect to. */
  public boolean remote() {
    return coordinator != null && !coordinator.isBlank();
  }

  /** The command line's farm selection: empty for a command without one (not {@code build} or {@code bake}). */
  public static Optional<FarmSelection> of(CommandSpec command) {
    return command.mixins().values().stream().map(CommandSpec::userObject)
        .filter(FarmSelection.class::isInstance).map(FarmSelection.class::cast).findFirst();
  }

  /** Serves {@code run} instead of this process (the local farm running a thin client's command line). */
  public void runIn(RunContext run) {
    this.run = run;
  }

  /** The run this command serves: where its streams, environment and working directory come from. */
  public RunContext run() {
    return run;
  }

  /** The farm of these flags; in the local farm, a run with its settings uses it directly. */
  public Farm open() throws Exception {
    if (remote()) {
      return RemoteFarm.connect(coordinator, apiClientFlags);
    }
    if (oneShot) {
      return oneShot(farmFlags, workers());
    }
    LocalFarm.Settings settings = localSettings(farmFlags);
    if (run.localFarm().isPresent()) {
      // checked before the run started (LocalFarmRuns): a run with other settings went to the JVM client
      return run.localFarm().get().apply(settings).orElseThrow(() -> ExitCodes.farm("the local farm runs with other"
          + " settings than this build's (" + settings.fingerprint() + "): run it with STAGEFARM_NO_FAST=1"));
    }
    return new LocalFarm(LocalFarmState.forHome(FarmFlags.home())).connect(settings, run.err());
  }

  /** The local farm this command line uses (after parsing): empty with {@code --coordinator} or {@code --one-shot}. */
  public Optional<LocalFarm.Settings> localFarmSettings() {
    return remote() || oneShot ? Optional.empty() : Optional.of(localSettings(farmFlags));
  }

  private LocalFarm.Settings localSettings(FarmFlags farmFlags) {
    List<String> registryFlags = new ArrayList<>();
    farmFlags.registrySettings(); // a malformed flag fails here, not in the daemon
    farmFlags.insecureRegistries.forEach(r -> registryFlags.addAll(List.of("--insecure-registry", r)));
    farmFlags.registryMirrors.forEach(m -> registryFlags.addAll(List.of("--registry-mirror", m)));
    return new LocalFarm.Settings(FarmFlags.home(), workers(), registryFlags, idleTimeout);
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
  /** The one-shot farm's workers unless {@code --workers} says otherwise. */
  static final int ONE_SHOT_WORKERS = 2;

  private static Farm oneShot(FarmFlags farmFlags, int workers) {
    return EmbeddedFarmSupport.require(ONE_SHOT).startOneShot(farmFlags.registrySettings(), workers);
  }
}
