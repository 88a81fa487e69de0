package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Dockerfiles;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.PlannedStage;
import dev.stagefarm.dockerfile.graph.Platform;
import dev.stagefarm.dockerfile.graph.StageBase;
import dev.stagefarm.dockerfile.graph.StageGraph;
import dev.stagefarm.oci.registry.DockerConfigCredentials;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.proto.v1.RegistryCredential;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The client's registry credentials for one build: those its docker config ({@code auths},
 * {@code credHelpers}, {@code credsStore}) has for the registries the build pulls from (the
 * images its target needs) or pushes to (its tags), sent in SubmitBuildRequest field 31.
 * The coordinator uses them for that build only (docs/security.md, "Registry credentials").
 */
public final class ClientRegistryAuth {
  private ClientRegistryAuth() {}

  private static final String DOCKER_IMAGE = "docker-image://";

  /** As {@link #add}, from the user's docker config ({@code $DOCKER_CONFIG}, else {@code ~/.docker}). */
  public static void addFromDockerConfig(SubmitBuildRequest.Builder request, Map<String, String> namedContexts) {
    addFromDockerConfig(request, namedContexts, System::getenv);
  }

  /**
   * As {@link #addFromDockerConfig(SubmitBuildRequest.Builder, Map)}, with the caller's environment:
   * its {@code DOCKER_CONFIG}, {@code HOME} and {@code PATH} (for credential helpers), not this process's.
   */
  public static void addFromDockerConfig(SubmitBuildRequest.Builder request, Map<String, String> namedContexts,
      java.util.function.Function<String, String> env) {
    DockerConfigCredentials config;
    try {
      config = dockerConfig(env);
    } catch (RuntimeException e) {
      // an unreadable or malformed config.json, or a credHelpers entry naming a bad helper
      throw new UserError("cannot read the docker config for registry credentials: " + e.getMessage(), e);
    }
    add(request, namedContexts, config);
  }

  private static DockerConfigCredentials dockerConfig(java.util.function.Function<String, String> env) {
    String dockerConfig = env.apply("DOCKER_CONFIG");
    String home = env.apply("HOME");
    java.nio.file.Path dir = dockerConfig != null && !dockerConfig.isBlank() ? java.nio.file.Path.of(dockerConfig)
        : java.nio.file.Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"), ".docker");
    java.nio.file.Path file = dir.resolve("config.json");
    if (!java.nio.file.Files.isRegularFile(file)) {
      return DockerConfigCredentials.none();
    }
    String path = env.apply("PATH");
    return DockerConfigCredentials.read(file, path == null ? java.util.List.of() : java.util.Arrays.stream(
        path.split(java.io.File.pathSeparator)).filter(s -> !s.isBlank()).map(java.nio.file.Path::of).toList());
  }

  /**
   * Adds the credentials {@code config} has for the registries of {@code request}'s images and tags.
   *
   * @param namedContexts the build's {@code --build-context} values by name (not yet in the request)
   */
  public static void add(SubmitBuildRequest.Builder request, Map<String, String> namedContexts,
      DockerConfigCredentials config) {
    if (config.isEmpty()) {
      return; // nothing to send: the registries need not be found (the Dockerfile planned once more, per build)
    }
    for (String registry : registries(request, namedContexts)) {
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
   * The registries a build names: its tags' and the images its {@code --target} needs (stage
   * bases, {@code COPY --from}, {@code RUN --mount from=}), found by planning its Dockerfile as the
   * coordinator does: build args and the platform applied, stage names and {@code scratch} left
   * out, an alias from {@code --build-context NAME=docker-image://REF} followed to {@code REF}. A
   * Dockerfile that does not plan names none here: the client's check or the coordinator reports it.
   */
  static Set<String> registries(SubmitBuildRequest.Builder request, Map<String, String> namedContexts) {
    Set<String> registries = new LinkedHashSet<>();
    for (String tag : request.getTagsList()) {
      registry(tag).ifPresent(registries::add);
    }
    for (String image : images(request)) {
      String named = namedContexts.get(image);
      if (named == null) {
        registry(image).ifPresent(registries::add);
      } else if (named.startsWith(DOCKER_IMAGE)) {
        registry(named.substring(DOCKER_IMAGE.length())).ifPresent(registries::add);
      } // else a directory or an OCI layout: uploaded, no registry
    }
    return registries;
  }

  private static Set<String> images(SubmitBuildRequest.Builder request) {
    BuildPlan plan;
    try {
      var requested = request.getPlatform();
      Platform platform = requested.getOs().isEmpty() && requested.getArchitecture().isEmpty() ? null
          : new Platform(requested.getOs(), requested.getArchitecture(), requested.getVariant());
      plan = StageGraph.plan(Dockerfiles.parse(request.getDockerfile().toByteArray()), new BuildOptions(
          request.getTarget().isEmpty() ? null : request.getTarget(), request.getBuildArgsMap(), platform, null));
    } catch (DockerfileException | IllegalArgumentException e) {
      return Set.of();
    }
    Set<String> images = new LinkedHashSet<>();
    for (PlannedStage stage : plan.runStages()) {
      if (stage.base() instanceof StageBase.Image image) {
        images.add(image.reference());
      }
      images.addAll(stage.imageSources());
    }
    return images;
  }

  private static Optional<String> registry(String reference) {
    try {
      return Optional.of(ImageReference.parse(reference).registry());
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // a stage name or a bad reference: the coordinator reports the latter
    }
  }
}
