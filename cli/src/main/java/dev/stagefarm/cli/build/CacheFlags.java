package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * buildx's {@code --cache-from} and {@code --cache-to}. The farm's own cache is shared by every
 * build on it already; importing and exporting BuildKit's cache formats (registry, local) is not
 * done yet, and a build that asks for it fails before it starts rather than silently without.
 */
public final class CacheFlags {
  @Option(names = "--cache-from", paramLabel = "type=registry,ref=REF|type=local,src=DIR",
      description = "Import build cache (not supported yet: the farm's cache is shared by its builds).")
  List<String> cacheFrom = new ArrayList<>();

  @Option(names = "--cache-to", paramLabel = "type=registry,ref=REF[,mode=max]|type=local,dest=DIR",
      description = "Export build cache (not supported yet: the farm's cache is shared by its builds).")
  List<String> cacheTo = new ArrayList<>();

  /** @throws UserError when a cache import or export is asked for */
  public void check() {
    if (!cacheFrom.isEmpty()) {
      throw notYet("--cache-from " + cacheFrom.getFirst());
    }
    if (!cacheTo.isEmpty()) {
      throw notYet("--cache-to " + cacheTo.getFirst());
    }
  }

  private static UserError notYet(String flag) {
    return new UserError(flag + ": importing and exporting build cache is not supported yet (docs/status.md); the"
        + " farm's own cache is shared by every build on it");
  }
}
