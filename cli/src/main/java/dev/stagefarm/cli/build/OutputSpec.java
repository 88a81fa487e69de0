package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One {@code -o/--output} of {@code stagefarm build}, in buildx's syntax: CSV fields {@code type},
 * {@code dest}, {@code name}, {@code push}; {@code -o DIR} is {@code type=local,dest=DIR} and
 * {@code -o -} is {@code type=tar,dest=-}. A {@code dest} of {@code -} is standard output.
 *
 * @param dest where a file-like output goes ("-": stdout); empty for image and registry
 * @param names image names of {@code type=image|registry} ({@code name=a,b}), pushed with {@code -t}'s
 * @param push whether an image output pushes ({@code type=registry} always does)
 */
public record OutputSpec(Type type, Optional<String> dest, List<String> names, boolean push) {

  /** buildx's exporters that stagefarm has. */
  public enum Type {
    /** The target's filesystem written into a directory. */
    LOCAL,
    /** The target's filesystem as a tar. */
    TAR,
    /** An OCI image layout tarball. */
    OCI,
    /** A docker-archive tarball ({@code docker load}). */
    DOCKER,
    /** An image in the farm's store, pushed with {@code push=true}. */
    IMAGE,
    /** {@code type=image,push=true}. */
    REGISTRY;

    String flagName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the output is a file, a directory or stdout (rather than an image the farm keeps or pushes). */
    public boolean writesFiles() {
      return this == LOCAL || this == TAR || this == OCI || this == DOCKER;
    }
  }

  public OutputSpec {
    names = List.copyOf(names);
  }

  public boolean toStdout() {
    return dest.filter("-"::equals).isPresent();
  }

  public static OutputSpec parse(String text) {
    if (text.equals("-")) {
      return new OutputSpec(Type.TAR, Optional.of("-"), List.of(), false);
    }
    if (!text.contains("=")) {
      return new OutputSpec(Type.LOCAL, Optional.of(text), List.of(), false);
    }
    String type = null;
    String dest = null;
    List<String> names = new ArrayList<>();
    Boolean push = null;
    for (String field : CsvFields.split("-o", text)) {
      int eq = field.indexOf('=');
      if (eq < 0) {
        throw ExitCodes.usage("-o " + text + ": field \"" + field + "\" must be key=value");
      }
      String key = field.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = field.substring(eq + 1).strip();
      switch (key) {
        case "type" -> type = value;
        case "dest" -> dest = value;
        case "name" -> {
          for (String name : value.split(",")) {
            if (!name.isBlank()) {
              names.add(name.strip());
            }
          }
        }
        case "push" -> push = parseBool(text, value);
        default -> throw ExitCodes.usage("-o " + text + ": \"" + key + "\" is not supported yet (stagefarm knows"
            + " type, dest, name, push; docs/cli.md)");
      }
    }
    if (type == null) {
      throw ExitCodes.usage("-o " + text + ": no type (local, tar, oci, docker, image or registry)");
    }
    Type parsed = switch (type) {
      case "local" -> Type.LOCAL;
      case "tar" -> Type.TAR;
      case "oci" -> Type.OCI;
      case "docker" -> Type.DOCKER;
      case "image" -> Type.IMAGE;
      case "registry" -> Type.REGISTRY;
      case "cacheonly" -> throw ExitCodes.usage("-o type=cacheonly is not supported yet (docs/cli.md)");
      default -> throw ExitCodes.usage("-o " + text + ": unknown type \"" + type
          + "\" (local, tar, oci, docker, image or registry)");
    };
    if (parsed.writesFiles()) {
      if (dest == null || dest.isEmpty()) {
        throw ExitCodes.usage(parsed == Type.DOCKER
            ? "-o type=docker without dest (loading into Docker) is --load; give dest=FILE for a tarball"
            : "-o type=" + type + " needs dest=" + (parsed == Type.LOCAL ? "DIR" : "FILE or dest=-"));
      }
      if (parsed == Type.LOCAL && dest.equals("-")) {
        throw ExitCodes.usage("-o type=local writes a directory; use type=tar,dest=- for standard output");
      }
      if (!names.isEmpty() || push != null) {
        throw ExitCodes.usage("-o " + text + ": name and push belong to type=image or type=registry");
      }
      return new OutputSpec(parsed, Optional.of(dest), List.of(), false);
    }
    if (dest != null) {
      throw ExitCodes.usage("-o " + text + ": type=" + type + " has no dest (it names an image: name=REF)");
    }
    if (parsed == Type.REGISTRY && Boolean.FALSE.equals(push)) {
      throw ExitCodes.usage("-o " + text + ": type=registry always pushes (use type=image to keep it in the farm)");
    }
    return new OutputSpec(parsed, Optional.empty(), names, parsed == Type.REGISTRY || Boolean.TRUE.equals(push));
  }

  private static boolean parseBool(String text, String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw ExitCodes.usage("-o " + text + ": push must be true or false, not \"" + value + "\"");
    };
  }

  @Override
  public String toString() {
    return "type=" + type.flagName() + dest.map(d -> ",dest=" + d).orElse("")
        + (names.isEmpty() ? "" : ",name=" + String.join(",", names)) + (push ? ",push=true" : "");
  }
}
