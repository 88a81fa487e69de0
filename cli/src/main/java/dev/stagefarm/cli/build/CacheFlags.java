package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.coordinator.remotecache.CacheSpec;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * buildx's {@code --cache-from} and {@code --cache-to}: the coordinator imports the named caches before planning
 * and exports the build's after it (BuildKit's cache format; docs/cli.md, "Build cache import and export").
 */
public final class CacheFlags {
  @Option(names = "--cache-from", paramLabel = "type=registry,ref=REF|type=local,src=DIR",
      description = "Import build cache from a registry or an OCI layout directory (a missing cache is a warning).")
  List<String> cacheFrom = new ArrayList<>();

  @Option(names = "--cache-to", paramLabel = "type=registry,ref=REF[,mode=min|max]|type=local,dest=DIR",
      description = "Export the build's cache (mode=min: the image's stages; max: every stage).")
  List<String> cacheTo = new ArrayList<>();

  /**
   * Adds the flags to the request, each checked and made explicit (a local directory absolute).
   *
   * @throws dev.stagefarm.cli.UserError naming a malformed flag
   */
  public void addTo(SubmitBuildRequest.Builder request) {
    addTo(request, Path.of(""));
  }

  /** As {@link #addTo(SubmitBuildRequest.Builder)}, a relative {@code src}/{@code dest} in {@code base}. */
  public void addTo(SubmitBuildRequest.Builder request, Path base) {
    request.addAllCacheFrom(canonical(cacheFrom, false, base)).addAllCacheTo(canonical(cacheTo, true, base));
  }

  public boolean exports() {
    return !cacheTo.isEmpty();
  }

  /**
   * buildx's forms as the coordinator takes them.
   *
   * @throws dev.stagefarm.cli.UserError naming a malformed one, or more than {@link CacheSpec#MAX_PER_BUILD}
   */
  public static List<String> canonical(List<String> specs, boolean export) {
    return canonical(specs, export, Path.of(""));
  }

  /** As {@link #canonical(List, boolean)}, a relative {@code src}/{@code dest} in {@code base}. */
  public static List<String> canonical(List<String> specs, boolean export, Path base) {
    if (specs.size() > CacheSpec.MAX_PER_BUILD) {
      throw ExitCodes.usage("more than " + CacheSpec.MAX_PER_BUILD + (export ? " --cache-to" : " --cache-from"));
    }
    List<String> texts = new ArrayList<>();
    for (String text : specs) {
      CacheSpec spec;
      try {
        spec = CacheSpec.parse(absolute(text, base), export);
      } catch (IllegalArgumentException e) {
        throw ExitCodes.usage(e.getMessage());
      }
      texts.add(spec.canonical(export));
    }
    return texts;
  }

  /** A relative {@code src=}/{@code dest=} is the client's: made absolute against its working directory. */
  private static String absolute(String text, Path base) {
    List<String> parts = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      int eq = part.indexOf('=');
      String key = eq < 0 ? "" : part.substring(0, eq).strip();
      if ((key.equals("src") || key.equals("dest")) && !part.substring(eq + 1).isBlank()) {
        part = key + "=" + base.resolve(part.substring(eq + 1).strip()).toAbsolutePath().normalize();
      }
      parts.add(part);
    }
    return String.join(",", parts);
  }

  /** The build's warnings (a cache that could not be imported), one {@code warning:} line each. */
  public static void printWarnings(BuildStatus status, PrintStream err) {
    for (String warning : status.getWarningsList()) {
      err.println("warning: " + warning);
    }
  }
}
