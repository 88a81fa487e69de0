package dev.stagefarm.bake;

import java.util.Arrays;
import java.util.Optional;

/**
 * The attributes of a bake target: buildx's names, their kinds, and how a value from a later
 * place (a target that inherits, a later file) combines with an earlier one. The order is the
 * order {@code --print} writes them in (buildx's).
 */
public enum TargetAttribute {
  DESCRIPTION("description", Kind.STRING, Merge.REPLACE),
  CONTEXT("context", Kind.STRING, Merge.REPLACE),
  CONTEXTS("contexts", Kind.MAP, Merge.MERGE),
  DOCKERFILE("dockerfile", Kind.STRING, Merge.REPLACE),
  DOCKERFILE_INLINE("dockerfile-inline", Kind.STRING, Merge.REPLACE),
  ARGS("args", Kind.MAP, Merge.MERGE),
  ANNOTATIONS("annotations", Kind.LIST, Merge.APPEND),
  ATTEST("attest", Kind.LIST, Merge.APPEND),
  CACHE_FROM("cache-from", Kind.LIST, Merge.APPEND),
  CACHE_TO("cache-to", Kind.LIST, Merge.REPLACE),
  ENTITLEMENTS("entitlements", Kind.LIST, Merge.REPLACE),
  EXTRA_HOSTS("extra-hosts", Kind.MAP, Merge.MERGE),
  LABELS("labels", Kind.MAP, Merge.MERGE),
  TAGS("tags", Kind.LIST, Merge.REPLACE),
  TARGET("target", Kind.STRING, Merge.REPLACE),
  SECRET("secret", Kind.LIST, Merge.APPEND),
  SSH("ssh", Kind.LIST, Merge.APPEND),
  PLATFORMS("platforms", Kind.LIST, Merge.REPLACE),
  OUTPUT("output", Kind.LIST, Merge.REPLACE),
  PULL("pull", Kind.BOOL, Merge.REPLACE),
  NO_CACHE("no-cache", Kind.BOOL, Merge.REPLACE),
  NETWORK("network", Kind.STRING, Merge.REPLACE),
  NO_CACHE_FILTER("no-cache-filter", Kind.LIST, Merge.REPLACE),
  SHM_SIZE("shm-size", Kind.STRING, Merge.REPLACE),
  ULIMITS("ulimits", Kind.LIST, Merge.REPLACE);

  /** The shape of a value: a string, a bool, a list of strings, a map of strings (values may be null). */
  public enum Kind { STRING, BOOL, LIST, MAP }

  /** How a later value combines with an earlier one. */
  public enum Merge { REPLACE, APPEND, MERGE }

  private final String key;
  private final Kind kind;
  private final Merge merge;

  TargetAttribute(String key, Kind kind, Merge merge) {
    this.key = key;
    this.kind = kind;
    this.merge = merge;
  }

  /** The name in bake files. */
  public String key() {
    return key;
  }

  public Kind kind() {
    return kind;
  }

  public Merge merge() {
    return merge;
  }

  public static Optional<TargetAttribute> byKey(String key) {
    return Arrays.stream(values()).filter(a -> a.key.equals(key)).findFirst();
  }
}
