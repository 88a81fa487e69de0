package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.plan.ContextManifests;
import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.coordinator.remotecache.CacheSpec;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * What a client sends with SubmitBuild is hostile input: checked here, at the edge, before a build
 * exists. A violation is the client's error ({@code INVALID_ARGUMENT}) naming the entry or the
 * limit; nothing is planned, published or stored for it.
 */
final class SubmitValidation {
  /** The largest Dockerfile accepted (BuildKit's own parser takes lines up to 64 KiB each). */
  static final int MAX_DOCKERFILE_BYTES = 4 << 20;
  /** The longest path of a context entry (Linux's PATH_MAX). */
  static final int MAX_PATH_BYTES = 4096;
  /** The most {@code --secret}s a build may send. */
  static final int MAX_SECRETS = 100;
  /** The largest secret value: BuildKit's own limit (its {@code MaxSecretSize}). */
  static final int MAX_SECRET_BYTES = 500 << 10;
  /** All secret values of a build together. */
  static final int MAX_SECRETS_TOTAL_BYTES = 1 << 20;
  /** The longest secret id. */
  static final int MAX_ID_CHARS = 255;
  /** Image labels and annotations (--label, --annotation) together: they go into every image config or manifest. */
  static final int MAX_METADATA_ENTRIES = 1000;
  static final int MAX_METADATA_BYTES = 256 << 10;
  /** Build args (--build-arg): expanded into every stage that declares them, so bounded like labels. */
  static final int MAX_BUILD_ARGS = 1000;
  static final int MAX_BUILD_ARGS_CHARS = 256 << 10;
  /** Tags (-t): each is a push (or a name in an export); a reference is at most 255 + 128 characters. */
  static final int MAX_TAGS = 100;
  static final int MAX_TAGS_CHARS = 64 << 10;
  /** The most --build-context names. */
  static final int MAX_NAMED_CONTEXTS = 100;
  /** The most stage names in --no-cache-filter. */
  static final int MAX_NO_CACHE_FILTER = 1000;

  /** Registry credentials (field 31): one per registry the build pulls from or pushes to. */
  static final int MAX_REGISTRY_CREDENTIALS = 64;
  static final int MAX_REGISTRY_CREDENTIAL_CHARS = 16 << 10;
  static final int MAX_REGISTRY_CREDENTIALS_CHARS = 256 << 10;

  private SubmitValidation() {}

  /** A request or context that breaks the rules; the message names the entry or the limit. */
  static final class InvalidSubmission extends IllegalArgumentException {
    InvalidSubmission(String message) {
      super(message);
    }
  }

  /**
   * @return the request's context manifest, read within the limits and checked (null when the
   *     request has none), for the planner to use rather than reading it again
   * @throws InvalidSubmission naming what is wrong
   * @throws IllegalArgumentException naming the limit a manifest is over
   * @throws IOException when the manifest cannot be read from the store
   */
  static ContextManifest check(SubmitBuildRequest request, ContentStore context, ContextManifests.Limits limits)
      throws IOException {
    if (request.getDockerfile().size() > MAX_DOCKERFILE_BYTES) {
      throw new InvalidSubmission("the Dockerfile is " + request.getDockerfile().size()
          + " bytes, over the limit of " + MAX_DOCKERFILE_BYTES + " bytes");
    }
    checkSecrets(request);
    checkImageMetadata(request);
    checkBuildArgsAndTags(request);
    checkCacheSpecs(request);
    checkRunOptions(request);
    checkRegistryCredentials(request);
    checkNamedContexts(request, context, limits);
    if (!request.getContextManifest().isEmpty()) {
      Digest digest;
      try {
        digest = Digest.parse(request.getContextManifest());
      } catch (IllegalArgumentException e) {
        throw new InvalidSubmission("context_manifest \"" + request.getContextManifest() + "\" is not a digest");
      }
      ContextManifest manifest = ContextManifests.read(context, digest, limits);
      check(manifest);
      return manifest;
    }
    return null;
  }

  /**
   * A manifest the planner and the workers can trust: clean relative paths, each once, nothing
   * below a symlink or a file, known types, permission bits only, file digests, symlink targets.
   */
  static void check(ContextManifest manifest) {
    Map<String, ContextEntry.Type> types = new HashMap<>();
    for (ContextEntry entry : manifest.getEntriesList()) {
      String path = entry.getPath();
      if (path.length() > MAX_PATH_BYTES) {
        throw invalid(path.substring(0, 64) + "…", "its path is longer than " + MAX_PATH_BYTES + " characters");
      }
      if (path.isEmpty() || path.startsWith("/") || path.endsWith("/") || path.indexOf('\0') >= 0) {
        throw invalid(path, "not a clean relative path");
      }
      for (String part : path.split("/", -1)) {
        if (part.isEmpty() || part.equals(".") || part.equals("..")) {
          throw invalid(path, "not a clean relative path");
        }
      }
      if (types.put(path, entry.getType()) != null) {
        throw invalid(path, "it appears twice");
      }
      switch (entry.getType()) {
        case FILE -> {
          if (!Digest.isValid(entry.getDigest()) || entry.getSize() < 0) {
            throw invalid(path, "a file without a valid digest and size");
          }
        }
        case SYMLINK -> {
          if (entry.getLinkTarget().isEmpty() || entry.getLinkTarget().indexOf('\0') >= 0) {
            throw invalid(path, "a symlink without a target");
          }
        }
        case DIRECTORY -> { }
        case UNRECOGNIZED -> throw invalid(path, "an unknown entry type");
      }
      if ((entry.getMode() & ~07777) != 0) {
        throw invalid(path, "mode " + Integer.toOctalString(entry.getMode()) + " has more than permission bits");
      }
    }
    // nothing below a symlink or a file (a symlink then a file "through" it would write outside)
    for (String path : types.keySet()) {
      for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
        ContextEntry.Type parent = types.get(path.substring(0, slash));
        if (parent == ContextEntry.Type.SYMLINK || parent == ContextEntry.Type.FILE) {
          throw invalid(path, "it is below " + path.substring(0, slash) + ", which is a "
              + parent.name().toLowerCase(java.util.Locale.ROOT));
        }
      }
    }
  }

  /** Labels and annotations: a bounded number of entries of a bounded size together. */
  static void checkImageMetadata(SubmitBuildRequest request) {
    checkCount("%d labels and annotations", request.getLabelsCount() + request.getAnnotationsCount(),
        MAX_METADATA_ENTRIES);
    checkChars("labels and annotations", chars(request.getLabelsMap()) + chars(request.getAnnotationsMap()),
        MAX_METADATA_BYTES);
  }

  /** Build args and tags: a bounded number of entries of a bounded size together, each. */
  static void checkBuildArgsAndTags(SubmitBuildRequest request) {
    checkCount("%d build args", request.getBuildArgsCount(), MAX_BUILD_ARGS);
    checkChars("build args", chars(request.getBuildArgsMap()), MAX_BUILD_ARGS_CHARS);
    checkCount("%d tags", request.getTagsCount(), MAX_TAGS);
    checkChars("tags", request.getTagsList().stream().mapToLong(String::length).sum(), MAX_TAGS_CHARS);
  }

  /** "the build sends {@code counted}, over the limit of {@code max}", {@code counted} a format of the count. */
  private static void checkCount(String counted, int count, int max) {
    if (count > max) {
      throw new InvalidSubmission(
          "the build sends " + String.format(java.util.Locale.ROOT, counted, count) + ", over the limit of " + max);
    }
  }

  /** "the build's {@code what} are N characters together, over the limit of {@code max}". */
  private static void checkChars(String what, long chars, long max) {
    if (chars > max) {
      throw new InvalidSubmission("the build's " + what + " are " + chars + " characters together, over the limit of "
          + max);
    }
  }

  /** The characters of a map's keys and values together. */
  private static long chars(Map<String, String> map) {
    return map.entrySet().stream().mapToLong(e -> e.getKey().length() + e.getValue().length()).sum();
  }

  /** --cache-from/--cache-to: at most {@link CacheSpec#MAX_PER_BUILD} each, each well-formed. */
  static void checkCacheSpecs(SubmitBuildRequest request) {
    if (request.getCacheFromCount() > CacheSpec.MAX_PER_BUILD || request.getCacheToCount() > CacheSpec.MAX_PER_BUILD) {
      throw new InvalidSubmission("the build sends " + request.getCacheFromCount() + " --cache-from and "
          + request.getCacheToCount() + " --cache-to, over the limit of " + CacheSpec.MAX_PER_BUILD + " each");
    }
    try {
      request.getCacheFromList().forEach(text -> CacheSpec.parse(text, false));
      request.getCacheToList().forEach(text -> CacheSpec.parse(text, true));
    } catch (IllegalArgumentException e) {
      throw new InvalidSubmission(e.getMessage());
    }
  }

  /** {@code --build-context}: a bounded number of names, each an image reference or a manifest checked like the main one. */
  static void checkNamedContexts(SubmitBuildRequest request, ContentStore context, ContextManifests.Limits limits)
      throws IOException {
    if (request.getNamedContextsCount() > MAX_NAMED_CONTEXTS) {
      throw new InvalidSubmission("the build sends " + request.getNamedContextsCount() + " named contexts, over the limit"
          + " of " + MAX_NAMED_CONTEXTS);
    }
    for (var named : request.getNamedContextsMap().entrySet()) {
      checkName("named context", named.getKey());
      String value = named.getValue();
      if (value.startsWith("docker-image://")) {
        String reference = value.substring("docker-image://".length());
        if (reference.isEmpty() || reference.length() > MAX_PATH_BYTES || !reference.chars().allMatch(c -> c > ' ' && c < 127)) {
          throw new InvalidSubmission("named context " + named.getKey() + ": not an image reference");
        }
        continue;
      }
      if (value.startsWith("oci-layout://")) {
        // the uploaded image's root; the planner reads it, bounded and verified, from the content store
        if (!Digest.isValid(value.substring("oci-layout://".length()))) {
          throw new InvalidSubmission("named context " + named.getKey() + ": oci-layout:// names no sha256 digest");
        }
        continue;
      }
      Digest digest;
      try {
        digest = Digest.parse(value);
      } catch (IllegalArgumentException e) {
        throw new InvalidSubmission("named context " + named.getKey() + ": neither docker-image://REF,"
            + " oci-layout://sha256:… nor a context manifest digest");
      }
      check(ContextManifests.read(context, digest, limits));
    }
  }

  /** --add-host, --shm-size, --ulimit (they reach /etc/hosts and runc's config) and --no-cache-filter. */
  static void checkRunOptions(SubmitBuildRequest request) {
    try {
      dev.stagefarm.program.ProgramCodec.runOptions(
          request.getExtraHostsList(), request.getShmSizeBytes(), request.getUlimitsList());
    } catch (IllegalArgumentException e) {
      throw new InvalidSubmission(e.getMessage());
    }
    if (request.getNoCacheFilterCount() > MAX_NO_CACHE_FILTER) {
      throw new InvalidSubmission("the build names " + request.getNoCacheFilterCount() + " stages in no_cache_filter,"
          + " over the limit of " + MAX_NO_CACHE_FILTER);
    }
    for (String stage : request.getNoCacheFilterList()) {
      if (stage.isEmpty() || stage.length() > MAX_ID_CHARS) {
        throw new InvalidSubmission("no_cache_filter: a stage name is 1 to " + MAX_ID_CHARS + " characters");
      }
    }
  }

  /** Registry credentials: bounded in number and size, each for a distinct registry; values never echoed back. */
  static void checkRegistryCredentials(SubmitBuildRequest request) {
    checkCount("credentials for %d registries", request.getRegistryCredentialsCount(), MAX_REGISTRY_CREDENTIALS);
    long total = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (var c : request.getRegistryCredentialsList()) {
      String registry = c.getRegistry();
      if (registry.isEmpty() || registry.length() > MAX_ID_CHARS || !registry.matches("[A-Za-z0-9.:\\[\\]_-]+")) {
        throw new InvalidSubmission("registry credentials: \"" + registry.substring(0, Math.min(64, registry.length()))
            + "\" is not a registry host (HOST or HOST:PORT)");
      }
      if (!seen.add(registry)) {
        throw new InvalidSubmission("registry credentials: " + registry + " is sent twice");
      }
      int chars = c.getUsername().length() + c.getSecret().length();
      if (chars > MAX_REGISTRY_CREDENTIAL_CHARS) {
        throw new InvalidSubmission("registry credentials for " + registry + " are " + chars
            + " characters, over the limit of " + MAX_REGISTRY_CREDENTIAL_CHARS);
      }
      total += registry.length() + chars;
    }
    checkChars("registry credentials", total, MAX_REGISTRY_CREDENTIALS_CHARS);
  }

  /** Secrets: a bounded number of bounded values under distinct, printable ids (never echoed back). */
  static void checkSecrets(SubmitBuildRequest request) {
    checkCount("%d secrets", request.getSecretsCount(), MAX_SECRETS);
    java.util.Set<String> ids = new java.util.HashSet<>();
    long total = 0;
    for (var secret : request.getSecretsList()) {
      String id = secret.getId();
      checkName("secret id", id);
      if (!ids.add(id)) {
        throw new InvalidSubmission("secret \"" + id + "\" is sent twice");
      }
      if (secret.getValue().size() > MAX_SECRET_BYTES) {
        throw new InvalidSubmission("secret \"" + id + "\" is " + secret.getValue().size()
            + " bytes, over the limit of " + MAX_SECRET_BYTES + " bytes per secret");
      }
      total += secret.getValue().size();
    }
    if (total > MAX_SECRETS_TOTAL_BYTES) {
      throw new InvalidSubmission("the build's secrets are " + total + " bytes together, over the limit of "
          + MAX_SECRETS_TOTAL_BYTES + " bytes");
    }
  }

  private static void checkName(String what, String name) {
    if (name.isEmpty()) {
      throw new InvalidSubmission("a " + what + " is empty");
    }
    if (name.length() > MAX_ID_CHARS) {
      throw new InvalidSubmission("a " + what + " is longer than " + MAX_ID_CHARS + " characters");
    }
    if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new InvalidSubmission(what + " \"" + name.replaceAll("\\p{Cntrl}", "?") + "\" has a control character");
    }
  }

  private static InvalidSubmission invalid(String path, String why) {
    return new InvalidSubmission("context entry \"" + path + "\": " + why);
  }
}
