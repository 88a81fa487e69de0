package dev.stagefarm.dockerfile;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates BuildKit's conformance corpus (../shared/conformance, never copied into this repo).
 *
 * <p>The folder comes from the system property {@code stagefarm.conformance.dir} or the
 * environment variable {@code STAGEFARM_CONFORMANCE_DIR}, default {@code ../shared/conformance}
 * relative to the repository root. When it is missing the suites are skipped with a visible
 * notice, unless {@code stagefarm.conformance.required=true} (set by CI), where it is a failure.
 */
public final class ConformanceCorpus {

  private ConformanceCorpus() {}

  /** The corpus root; skips the calling test (or fails when required) if it is absent. */
  public static Path root() {
    Path dir = configuredRoot();
    if (!Files.isDirectory(dir.resolve("buildkit-parser"))) {
      String notice = "BuildKit conformance corpus not found at " + dir.toAbsolutePath()
          + " (set -Dstagefarm.conformance.dir or STAGEFARM_CONFORMANCE_DIR)";
      if (Boolean.getBoolean("stagefarm.conformance.required")) {
        throw new IllegalStateException(notice + "; it is required in this run");
      }
      System.err.println("NOTICE: skipping conformance tests: " + notice);
      assumeTrue(false, notice);
    }
    return dir;
  }

  public static Path parser() {
    return root().resolve("buildkit-parser");
  }

  public static Path shell() {
    return root().resolve("buildkit-shell");
  }

  private static Path configuredRoot() {
    String configured = System.getProperty("stagefarm.conformance.dir");
    if (configured == null || configured.isBlank()) {
      configured = System.getenv("STAGEFARM_CONFORMANCE_DIR");
    }
    if (configured == null || configured.isBlank()) {
      return Path.of("..", "..", "shared", "conformance");
    }
    return Path.of(configured);
  }
}
