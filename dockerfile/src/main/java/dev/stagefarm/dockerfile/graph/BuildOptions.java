package dev.stagefarm.dockerfile.graph;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a build asks for, besides the Dockerfile.
 *
 * @param target the stage to build (name, case-insensitive), or null for the last stage
 * @param buildArgs {@code --build-arg} values
 * @param targetPlatform the platform to build for, or null: the build platform
 * @param buildPlatform the platform the build runs on, or null: the target platform if given,
 *     else {@link Platform#DEFAULT}
 */
public record BuildOptions(
    String target, Map<String, String> buildArgs, Platform targetPlatform, Platform buildPlatform) {

  public BuildOptions {
    buildArgs = Map.copyOf(new LinkedHashMap<>(buildArgs));
  }

  /** The last stage, no build args, linux/amd64. */
  public static BuildOptions defaults() {
    return new BuildOptions(null, Map.of(), null, null);
  }

  public BuildOptions withTarget(String newTarget) {
    return new BuildOptions(newTarget, buildArgs, targetPlatform, buildPlatform);
  }

  public BuildOptions withBuildArgs(Map<String, String> newBuildArgs) {
    return new BuildOptions(target, newBuildArgs, targetPlatform, buildPlatform);
  }

  /** The platform the build runs on (BuildKit's {@code BUILDPLATFORM}). */
  public Platform effectiveBuildPlatform() {
    if (buildPlatform != null) {
      return buildPlatform;
    }
    return targetPlatform != null ? targetPlatform : Platform.DEFAULT;
  }

  /** The platform the build targets (BuildKit's {@code TARGETPLATFORM}). */
  public Platform effectiveTargetPlatform() {
    return targetPlatform != null ? targetPlatform : effectiveBuildPlatform();
  }
}
