package dev.stagefarm.cli.bake;

import com.google.protobuf.ByteString;
import dev.stagefarm.bake.BakeTarget;
import dev.stagefarm.bake.TargetAttribute;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildSession;
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
    List<OutputSpec> outputs, boolean push, List<String> tags) {

  /** Attributes with no counterpart in {@code stagefarm build} yet. */
  private static final Set<TargetAttribute> NOT_SUPPORTED = Set.of(
      TargetAttribute.CONTEXTS, TargetAttribute.LABELS, TargetAttribute.ANNOTATIONS, TargetAttribute.ATTEST,
      TargetAttribute.CACHE_FROM, TargetAttribute.CACHE_TO, TargetAttribute.ENTITLEMENTS, TargetAttribute.EXTRA_HOSTS,
      TargetAttribute.SSH, TargetAttribute.NO_CACHE_FILTER, TargetAttribute.SHM_SIZE, TargetAttribute.ULIMITS);

  public static BakeJob of(BakeTarget target, Function<String, String> env) {
    String name = target.name();
    for (TargetAttribute attribute : NOT_SUPPORTED) {
      Object value = target.attributes().get(attribute);
      if (value != null && !(value instanceof List<?> l && l.isEmpty()) && !(value instanceof Map<?, ?> m && m.isEmpty())) {
        throw notSupported(name, attribute.key(), "");
      }
    }
    String network = target.string(TargetAttribute.NETWORK);
    if (network != null && !network.equals("default")) {
      throw notSupported(name, "network", " (only network = \"default\")");
    }
    if (target.bool(TargetAttribute.PULL)) {
      throw notSupported(name, "pull", "");
    }
    String contextText = target.string(TargetAttribute.CONTEXT);
    if (contextText.contains("://") || contextText.startsWith("git@") || contextText.endsWith(".git")) {
      throw new UserError("target \"" + name + "\": context " + contextText + " is a URL; stagefarm bake builds"
          + " local directories only (not supported yet)");
    }
    Path context = Path.of(contextText);
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
    boolean push = false;
    for (String output : target.list(TargetAttribute.OUTPUT)) {
      push |= output(name, output, outputs);
    }
    if (push && tags.isEmpty()) {
      throw new UserError("target \"" + name + "\": pushing needs tags to push to");
    }
    SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFrom(dockerfile))
        .setDockerfileName(dockerfileName)
        .setTarget(target.string(TargetAttribute.TARGET) == null ? "" : target.string(TargetAttribute.TARGET))
        .putAllBuildArgs(args)
        .setNoCache(target.bool(TargetAttribute.NO_CACHE))
        .addAllTags(tags)
        .setPlatform(BuildSession.platform(platforms.isEmpty() ? "" : platforms.get(0)));
    try {
      BuildSession.addSecrets(request, target.list(TargetAttribute.SECRET), env);
    } catch (UserError e) {
      throw new UserError("target \"" + name + "\": " + e.getMessage());
    }
    BuildSession.addOutputs(request, outputs, push);
    return new BakeJob(name, request, context, dockerfileName, List.copyOf(outputs), push, tags);
  }

  /** One {@code output} entry; returns whether it is a push. */
  private static boolean output(String target, String text, List<OutputSpec> outputs) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String part : text.split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        if (!text.contains("=")) {
          throw notSupported(target, "output", " \"" + text + "\" (a local directory, type=local)");
        }
        throw new UserError("target \"" + target + "\": output \"" + text + "\" wants KEY=VALUE pairs");
      }
      fields.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
    }
    String type = fields.getOrDefault("type", "");
    switch (type) {
      case "registry" -> {
        return true;
      }
      case "image" -> {
        return Boolean.parseBoolean(fields.getOrDefault("push", "false"));
      }
      case "cacheonly" -> {
        return false;
      }
      case "oci", "docker" -> {
        if (!fields.containsKey("dest")) {
          throw notSupported(target, "output", " type=" + type + " without dest (loading into a Docker engine)");
        }
        for (String key : fields.keySet()) {
          if (!key.equals("type") && !key.equals("dest")) {
            throw notSupported(target, "output", " key " + key + " (type=" + type + " takes dest only)");
          }
        }
        outputs.add(OutputSpec.parse("type=" + type + ",dest=" + fields.get("dest")));
        return false;
      }
      default -> throw notSupported(target, "output", " type=" + type);
    }
  }

  private static UserError notSupported(String target, String attribute, String detail) {
    return new UserError("target \"" + target + "\": attribute " + attribute + detail
        + " is not supported by stagefarm yet");
  }
}
