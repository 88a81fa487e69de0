package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.oci.registry.RegistrySettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Flags shared by the commands that run an embedded farm or a coordinator. */
public final class FarmFlags {
  @Option(
      names = "--insecure-registry",
      paramLabel = "HOST:PORT",
      description = "Talk plain HTTP to this registry (repeatable).")
  public List<String> insecureRegistries = new ArrayList<>();

  @Option(
      names = "--registry-mirror",
      paramLabel = "REGISTRY=HOST:PORT",
      description = "Pull images of REGISTRY (e.g. docker.io) from this mirror first (repeatable).")
  public List<String> registryMirrors = new ArrayList<>();

  public RegistrySettings registrySettings() {
    return registrySettings(insecureRegistries, registryMirrors);
  }

  /** Registry settings of {@code insecure-registry} and {@code registry-mirror} values. */
  public static RegistrySettings registrySettings(List<String> insecureRegistries, List<String> registryMirrors) {
    RegistrySettings settings = RegistrySettings.defaults();
    for (String host : insecureRegistries) {
      settings = settings.withInsecure(host);
    }
    for (String mirror : registryMirrors) {
      int eq = mirror.indexOf('=');
      if (eq <= 0 || eq == mirror.length() - 1) {
        throw new UserError("--registry-mirror wants REGISTRY=HOST:PORT (e.g. docker.io=127.0.0.1:5000), got \"" + mirror + "\"");
      }
      String registry = mirror.substring(0, eq);
      String host = mirror.substring(eq + 1);
      settings = settings.withMirrors(registry, List.of(host));
      if (host.startsWith("127.") || host.startsWith("localhost")) {
        settings = settings.withInsecure(host); // a local mirror speaks plain HTTP, as docker assumes
      }
    }
    return settings;
  }

  /** Where the embedded farm keeps its content store between runs. */
  public static Path home() {
    return home(System::getenv);
  }

  /** As {@link #home()}, from {@code env}'s {@code STAGEFARM_HOME}. */
  public static Path home(java.util.function.Function<String, String> environment) {
    String env = environment.apply("STAGEFARM_HOME");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "stagefarm");
  }
}
