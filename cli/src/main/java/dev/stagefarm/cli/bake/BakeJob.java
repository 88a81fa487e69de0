package dev.stagefarm.cli.bake;

import com.google.protobuf.ByteString;
import dev.stagefarm.bake.BakeTarget;
import dev.stagefarm.bake.TargetAttribute;
import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildSession;
import dev.stagefarm.cli.build.CacheFlags;
import dev.stagefarm.cli.build.OutputSpec;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One bake target as a build: the request {@code stagefarm build} would send for the same flags,
 * its context directory, and where its image goes. Attributes the build path does not have yet
 * are refused by name, before any farm is contacted.
 *
 * @param name the target
 * @param dockerfileName for error messages
 */
public record BakeJob(String name, SubmitBuildRequest.Builder request, Path context, String dockerfileName,
    List<OutputSpec> outputs, boolean push, List<String> tags, dev.stagefarm.cli.build.NamedContexts namedContexts) {

  /** Attributes with no counterpart in {@code stagefarm build} yet. */
  private static final Set<TargetAttribute> NOT_SUPPORTED = Set.of(
      TargetAttribute.ATTEST, TargetAttribute.ENTITLEMENTS);

  public static BakeJob of(BakeTarget target, Function<String, String> env) {
    return of(target, env, Path.of(""));
  }

  /** As {@link #of(BakeTarget, Function)}, relative paths (context, secrets, cache, contexts) in {@code base}. */
  public static BakeJob of(BakeTarget target, Function<String, String> env, Path base) {
    String name = target.name();
    for (TargetAttribute attribute : NOT_SUPPORTED) {
      Object value = target.attributes().get(attribute);
      if (value != null && !(value instanceof List<?> l && l.isEmpty()) && !(value instanceof Map<?, ?> m && m.isEmpty())) {
        throw notSupported(name, attribute.key(), "");
      }
    }
    if (!target.list(TargetAttribute.SSH).isEmpty()) {
      throw new UserError("target \"" + name + "\": attribute ssh: "
          + dev.stagefarm.cli.build.BuildxFlags.SSH_NOT_SUPPORTED.substring("--ssh ".length()), ExitCodes.USAGE);
    }
    String network = target.string(TargetAttribute.NETWORK);
    if (network != null && !List.of("default", "none", "host").contains(network)) {
      throw new UserError("target \"" + name + "\": network must be default, none or host, not \"" + network + "\"");
    }
    // pull: the coordinator resolves every base tag at each build (no tag→digest cache beyond seconds)
    String contextText = target.string(TargetAttribute.CONTEXT);
    if (contextText.contains("://") || contextText.startsWith("git@") || contextText.endsWith(".git")) {
      throw new UserError("target \"" + name + "\": context " + contextText + " is a URL; stagefarm bake builds"
          + " local directories only (not supported yet)");
    }
    Path context = base.resolve(contextText);
    if (!Files.isDirectory(context)) {
      throw new UserError("target \"" + name + "\": context " + context + " is not a directory");
    }
    byte[] dockerfile;
    String dockerfileName;
    String inline = target.string(TargetAttribute.DOCKERFILE_INLINE);
    if (inline != null) {
      dockerfile = inline.getBytes(StandardCharsets.UTF_8);
      dockerfileName = name + ": dockerfile-inline";
    } else {
      Path path = context.resolve(target.string(TargetAttribute.DOCKERFILE)); // relative to the context, as in buildx
      dockerfileName = path.toString();
      try {
        dockerfile = Files.readAllBytes(path);
      } catch (NoSuchFileException e) {
        throw new UserError("target \"" + name + "\": Dockerfile " + path + " not found");
      } catch (IOException e) {
        throw new UserError("target \"" + name + "\": reading " + path + " failed: " + e.getMessage());
      }
    }
    List<String> platforms = target.list(TargetAttribute.PLATFORMS);
    if (platforms.size() > 1) {
      throw new UserError("target \"" + name + "\": platforms has " + platforms.size() + " platforms; stagefarm builds"
          + " one platform per target (multi-platform is not supported yet)");
    }
    Map<String, String> args = new LinkedHashMap<>();
    target.map(TargetAttribute.ARGS).forEach((k, v) -> {
      if (v != null) {
        args.put(k, v); // null: the Dockerfile's default
      }
    });
    List<String> tags = target.list(TargetAttribute.TAGS);
    List<OutputSpec> outputs = new ArrayList<>();
    List<String> names = new ArrayList<>(tags);
    boolean push = false;
    for (String output : target.list(TargetAttribute.OUTPUT)) {
      OutputSpec spec;
      try {
        spec = OutputSpec.parse(output);
      } catch (UserError e) {
        throw new UserError("target \"" + name + "\": output " + output + ": " + e.getMessage(), e.exitCode());
      }
      outputs.add(spec);
      spec.names().stream().filter(n -> !names.contains(n)).forEach(names::add);
      push |= spec.push();
    }
    if (push && names.isEmpty()) {
      throw new UserError("target \"" + name + "\": pushing needs tags to push to");
    }
    if (outputs.stream().anyMatch(OutputSpec::toStdout)) {
      throw new UserError("target \"" + name + "\": an output to standard output (dest=-) cannot be shared by several"
          + " targets: give dest a file or directory");
    }
    Map<String, String> annotations;
    try {
      annotations = dev.stagefarm.cli.build.BuildxFlags.annotations(target.list(TargetAttribute.ANNOTATIONS));
    } catch (UserError e) {
      throw new UserError("target \"" + name + "\": " + e.getMessage(), e.exitCode());
    }
    SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFrom(dockerfile))
        .setDockerfileName(dockerfileName)
        .setTarget(target.string(TargetAttribute.TARGET) == null ? "" : target.string(TargetAttribute.TARGET))
        .putAllBuildArgs(args)
        .setNoCache(target.bool(TargetAttribute.NO_CACHE))
        .addAllTags(names)
        .putAllLabels(nonNull(target.map(TargetAttribute.LABELS)))
        .putAllAnnotations(annotations)
        .setNetwork(network == null ? "" : network)
        .setPlatform(platforms.isEmpty() ? dev.stagefarm.proto.v1.Platform.getDefaultInstance()
            : dev.stagefarm.cli.build.PlatformFlag.parse(platforms.get(0)).getFirst());
    try {
      BuildSession.addSecrets(request, target.list(TargetAttribute.SECRET), env, base);
    } catch (UserError e) {
      throw new UserError("target \"" + name + "\": " + e.getMessage());
    }
    try {
      request.addAllCacheFrom(CacheFlags.canonical(target.list(TargetAttribute.CACHE_FROM), false, base))
          .addAllCacheTo(CacheFlags.canonical(target.list(TargetAttribute.CACHE_TO), true, base));
      List<String> hosts = new ArrayList<>();
      // buildx's extra-hosts is a map host → ip
      target.map(TargetAttribute.EXTRA_HOSTS).forEach((host, ip) -> hosts.add(host + "=" + (ip == null ? "" : ip)));
      dev.stagefarm.cli.build.BuildxFlags.addRunOptions(request, hosts, target.string(TargetAttribute.SHM_SIZE),
          target.list(TargetAttribute.ULIMITS), target.list(TargetAttribute.NO_CACHE_FILTER));
    } catch (UserError e) {
      throw new UserError("target \"" + name + "\": " + e.getMessage(), e.exitCode());
    }
    dev.stagefarm.cli.build.NamedContexts namedContexts;
    try {
      // as in buildx, a directory is relative to the bake file's working directory, like context
      namedContexts = BuildSession.namedContexts(nonNull(target.map(TargetAttribute.CONTEXTS)), base);
    } catch (UserError e) {
      throw new UserError("target \"" + name + "\": " + e.getMessage(), e.exitCode());
    }
    BuildSession.addOutputs(request, outputs, push);
    dev.stagefarm.cli.build.ClientRegistryAuth.addFromDockerConfig(request, namedContexts.values());
    return new BakeJob(name, request, context, dockerfileName, List.copyOf(outputs), push, List.copyOf(names),
        namedContexts);
  }

  /** A label whose value is null (bake: "use the default") is left out. */
  private static Map<String, String> nonNull(Map<String, String> map) {
    Map<String, String> kept = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      if (v != null) {
        kept.put(k, v);
      }
    });
    return kept;
  }

  private static UserError notSupported(String target, String attribute, String detail) {
    return new UserError("target \"" + target + "\": attribute " + attribute + detail
        + " is not supported by stagefarm yet");
  }
}
