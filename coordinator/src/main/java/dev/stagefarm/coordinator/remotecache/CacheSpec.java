package dev.stagefarm.coordinator.remotecache;

import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.InvalidReferenceException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One {@code --cache-from} or {@code --cache-to}, as buildx writes it: {@code type=registry,ref=REF[,mode=min|max]}
 * or {@code type=local,src=DIR} / {@code type=local,dest=DIR[,mode=…]}; a bare {@code REF} is a registry import.
 *
 * @param location the registry reference, or the OCI layout directory
 * @param tag the name of the cache in a local directory's {@code index.json} (buildx's {@code tag}, "latest")
 * @param ignoreError an export failure is a warning, not a failed build (buildx's {@code ignore-error})
 */
public record CacheSpec(String text, Type type, String location, Mode mode, String tag, boolean ignoreError) {
  public enum Type { REGISTRY, LOCAL }

  /** min: the layers of the stages the image is made of; max: every stage of the build. */
  public enum Mode { MIN, MAX }

  /** At most this many {@code --cache-from} and as many {@code --cache-to} in one build. */
  public static final int MAX_PER_BUILD = 16;

  // buildx attributes about how BuildKit writes blobs; stagefarm writes its layers as stored, an OCI index
  private static final Set<String> IGNORED = Set.of("oci-mediatypes", "image-manifest", "compression",
      "compression-level", "force-compression", "store");

  /**
   * @param export whether it is a {@code --cache-to} (dest, mode) or a {@code --cache-from} (src)
   * @throws IllegalArgumentException naming what is wrong, the flag's text included
   */
  public static CacheSpec parse(String text, boolean export) {
    String flag = (export ? "--cache-to " : "--cache-from ") + text;
    if (text.length() > 4096) {
      throw new IllegalArgumentException(flag.substring(0, 64) + "…: longer than 4096 characters");
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    if (!text.contains("=") && !text.isBlank()) {
      attrs.put("type", "registry"); // buildx: a bare name is a registry ref
      attrs.put("ref", text.strip());
    } else {
      for (String part : text.split(",")) {
        int eq = part.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException(flag + ": \"" + part + "\" is not KEY=VALUE");
        }
        String key = part.substring(0, eq).strip().toLowerCase(Locale.ROOT);
        if (attrs.put(key, part.substring(eq + 1).strip()) != null) {
          throw new IllegalArgumentException(flag + ": \"" + key + "\" given twice");
        }
      }
    }
    String type = attrs.getOrDefault("type", "");
    Type kind = switch (type) {
      case "registry" -> Type.REGISTRY;
      case "local" -> Type.LOCAL;
      case "" -> throw new IllegalArgumentException(flag + ": type is missing (type=registry or type=local)");
      case "inline", "gha", "s3", "azblob" -> throw new IllegalArgumentException(flag + ": type \"" + type
          + "\" is not supported (stagefarm imports and exports type=registry and type=local; docs/cli.md)");
      default -> throw new IllegalArgumentException(flag + ": unknown type \"" + type
          + "\" (type=registry or type=local)");
    };
    String locationKey = kind == Type.REGISTRY ? "ref" : export ? "dest" : "src";
    Mode mode = Mode.MIN;
    boolean ignoreError = false;
    String tag = "latest";
    for (Map.Entry<String, String> attr : attrs.entrySet()) {
      String key = attr.getKey();
      String value = attr.getValue();
      if (key.equals("type") || key.equals(locationKey) || IGNORED.contains(key)) {
        continue;
      }
      switch (key) {
        case "mode" -> {
          if (!export) {
            throw new IllegalArgumentException(flag + ": mode is a --cache-to attribute");
          }
          mode = switch (value) {
            case "min" -> Mode.MIN;
            case "max" -> Mode.MAX;
            default -> throw new IllegalArgumentException(flag + ": mode must be min or max, not \"" + value + "\"");
          };
        }
        case "ignore-error" -> ignoreError = switch (value) {
          case "true" -> true;
          case "false" -> false;
          default -> throw new IllegalArgumentException(flag + ": ignore-error must be true or false");
        };
        case "tag" -> {
          if (kind != Type.LOCAL || !value.matches("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")) {
            throw new IllegalArgumentException(flag + ": tag is a type=local name like \"latest\"");
          }
          tag = value;
        }
        default -> throw new IllegalArgumentException(flag + ": unknown attribute \"" + key + "\" (type=" + type
            + " takes " + locationKey + (export ? ", mode, ignore-error" : "") + (kind == Type.LOCAL ? ", tag" : "")
            + ")");
      }
    }
    String location = attrs.getOrDefault(locationKey, "");
    if (location.isEmpty()) {
      throw new IllegalArgumentException(flag + ": " + locationKey + "= is missing");
    }
    if (kind == Type.REGISTRY) {
      try {
        ImageReference.parse(location);
      } catch (InvalidReferenceException e) {
        throw new IllegalArgumentException(flag + ": " + e.getMessage());
      }
    } else if (!location.startsWith("/")) {
      throw new IllegalArgumentException(flag + ": " + locationKey + " must be an absolute directory (the client"
          + " sends it so)");
    }
    return new CacheSpec(text, kind, location, mode, tag, ignoreError);
  }

  /** The spec as the client sends it: every attribute explicit, a local directory absolute. */
  public String canonical(boolean export) {
    StringBuilder text = new StringBuilder(type == Type.REGISTRY ? "type=registry,ref=" : "type=local,")
        .append(type == Type.REGISTRY ? "" : export ? "dest=" : "src=").append(location);
    if (type == Type.LOCAL && !tag.equals("latest")) {
      text.append(",tag=").append(tag);
    }
    if (export) {
      text.append(",mode=").append(mode.name().toLowerCase(Locale.ROOT));
      if (ignoreError) {
        text.append(",ignore-error=true");
      }
    }
    return text.toString();
  }

  public ImageReference reference() {
    return ImageReference.parse(location);
  }

  @Override
  public String toString() {
    return (type == Type.REGISTRY ? "" : "type=local,") + location;
  }
}
