package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.Observability;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.oci.registry.RegistrySettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The farm that runs inside this JVM (a Kafka broker and an S3 server from module {@code embedded},
 * with the coordinator and workers) as the rest of the CLI sees it: {@code stagefarm up}, {@code
 * --one-shot} and the local background farm reach it only through this interface, found by
 * {@link ServiceLoader}. The thin client distribution (module {@code client}) leaves the broker and
 * the S3 server out; there {@link #require} ends the command with one line that says what is
 * missing and what to use instead, never a {@code NoClassDefFoundError}. {@code
 * EmbeddedFarmBoundaryTest} checks that no other class of the CLI touches module {@code embedded}.
 */
public interface EmbeddedFarmSupport {
  /** A class of module {@code embedded}: present in the full distribution only. */
  String EMBEDDED_MARKER = "dev.stagefarm.embedded.EmbeddedKafka";

  /**
   * {@code stagefarm up}'s settings, checked by {@code UpCommand} before anything starts; {@code
   * observability}'s endpoint, when set, serves the coordinator's and every worker's meters.
   */
  record UpSettings(Path home, int workers, RegistrySettings registry, int port, ApiServerSettings.Listener listener,
      Observability observability) {}

  /** An embedded farm for one build ({@code --one-shot}), stopped when the process exits. */
  Farm startOneShot(RegistrySettings registry, int workers);

  /**
   * Initialises, ahead of {@link #startOneShot} and on the caller's thread, classes its start would initialise
   * first; starts nothing ({@code OneShotWarmUp}).
   */
  void warmUpOneShot();

  /** Runs the local background farm in this process ({@code stagefarm farm serve}); returns the exit code. */
  int serveLocalFarm(Path home, int workers, RegistrySettings registry, Duration idleTimeout, String settings,
      PrintStream out) throws Exception;

  /** Runs {@code stagefarm up} until interrupted; returns the exit code. */
  int up(UpSettings settings, PrintStream out) throws Exception;

  /** Whether this distribution carries the embedded farm. */
  static boolean available() {
    try {
      Class.forName(EMBEDDED_MARKER, false, EmbeddedFarmSupport.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * The embedded farm, for {@code what} (e.g. "stagefarm up").
   *
   * @throws UserError (exit {@link ExitCodes#FARM_FAILED}) in the thin client distribution
   */
  static EmbeddedFarmSupport require(String what) {
    if (available()) {
      try {
        Optional<EmbeddedFarmSupport> found =
            ServiceLoader.load(EmbeddedFarmSupport.class, EmbeddedFarmSupport.class.getClassLoader()).findFirst();
        if (found.isPresent()) {
          return found.get();
        }
      } catch (ServiceConfigurationError | LinkageError e) {
        // a distribution with part of the embedded farm's jars: as good as none
      }
    }
    throw ExitCodes.farm(what + " needs the embedded farm (Kafka broker and S3 server), which this thin client"
        + " distribution leaves out: build with --coordinator HOST:PORT against a running farm, or use the full"
        + " distribution (./stagefarm)");
  }
}
