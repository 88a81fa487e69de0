package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.oci.registry.DockerConfigCredentials;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.proto.v1.RegistryCredential;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client's registry credentials for one build: those its docker config ({@code auths},
 * {@code credHelpers}, {@code credsStore}) has for the registries the build pulls from (its
 * Dockerfile's {@code FROM} images) or pushes to (its tags), sent in SubmitBuildRequest field 31.
 * The coordinator uses them for that build only (docs/security.md, "Registry credentials").
 */
public final class ClientRegistryAuth {
  private ClientRegistryAuth() {}

  /** A FROM line's image: flags (--platform=…) skipped; the rest of the line ("AS name") ignored. */
  private static final Pattern FROM = Pattern.compile(
      "(?im)^[ \\t]*FROM[ \\t]+(?:--[A-Za-z-]+=\\S+[ \\t]+)*(\\S+)");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?}|\\$([A-Za-z_][A-Za-z0-9_]*)");

  /** As {@link #add}, from the user's docker config ({@code $DOCKER_CONFIG}, else {@code ~/.docker}). */
  public static void addFromDockerConfig(SubmitBuildRequest.Builder request) {
    DockerConfigCredentials config;
    try {
      config = DockerConfigCredentials.fromDefaultLocation();
    } catch (RuntimeException e) {
      // an unreadable or malformed config.json, or a credHelpers entry naming a bad helper
      throw new UserError("cannot read the docker config for registry credentials: " + e.getMessage(), e);
    }
    add(request, config);
  }

  /** Adds the credentials {@code config} has for the registries of {@code request}'s images and tags. */
  public static void add(SubmitBuildRequest.Builder request, DockerConfigCredentials config) {
    for (String registry : registries(request)) {
      Optional<RegistryCredentials> found;
      try {
        found = config.lookup(registry);
      } catch (RuntimeException e) {
        throw new UserError("cannot get the credentials for registry " + registry + " from the docker config: "
            + e.getMessage(), e);
      }
      found.ifPresent(c -> request.addRegistryCredentials(RegistryCredential.newBuilder().setRegistry(registry)
          .setUsername(c.username()).setSecret(c.password())));
    }
  }

  /**
   * The registries a build names: its tags' and its {@code FROM} images' (with the request's
   * build args substituted; a reference still holding a variable, a stage name or {@code scratch}
   * names none that can be known here, and is pulled with the coordinator's policy).
   */
  static Set<String> registries(SubmitBuildRequest.Builder request) {
    Set<String> registries = new LinkedHashSet<>();
    for (String tag : request.getTagsList()) {
      registry(tag).ifPresent(registries::add);
    }
    Matcher from = FROM.matcher(request.getDockerfile().toString(StandardCharsets.UTF_8));
    while (from.find()) {
      String image = substitute(from.group(1), request.getBuildArgsMap());
      if (!image.contains("$") && !image.equalsIgnoreCase("scratch")) {
        registry(image).ifPresent(registries::add);
      }
    }
    return registries;
  }

  private static String substitute(String text, Map<String, String> args) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      String value = args.get(name);
      m.appendReplacement(out, Matcher.quoteReplacement(value != null ? value : m.group()));
    }
    return m.appendTail(out).toString();
  }

  private static Optional<String> registry(String reference) {
    try {
      return Optional.of(ImageReference.parse(reference).registry());
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // a stage name or a bad reference: the coordinator reports the latter
    }
  }
}
