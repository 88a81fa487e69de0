package dev.stagefarm.cli;

import dev.stagefarm.cli.farm.LocalFarm;
import java.util.Optional;

/** A command that the local farm can run for a thin client: it takes its streams, environment and directory from a {@link RunContext}. */
public interface RunScoped {
  void runIn(RunContext run);

  /** The local farm this command line would use (after parsing); empty when it uses no local farm. */
  Optional<LocalFarm.Settings> localFarmSettings();
}
