package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import java.nio.file.Path;

/** An {@code -o type=oci|docker,dest=PATH} output (buildx syntax). */
public record OutputSpec(String type, Path dest) {
  public static OutputSpec parse(String text) {
    String type = null;
    String dest = null;
    for (String part : text.split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        throw new UserError("-o wants type=oci|docker,dest=PATH, got \"" + text + "\"");
      }
      String key = part.substring(0, eq).strip();
      String value = part.substring(eq + 1).strip();
      switch (key) {
        case "type" -> type = value;
        case "dest" -> dest = value;
        default -> throw new UserError("-o: unknown key \"" + key + "\" (type, dest)");
      }
    }
    if (type == null || !(type.equals("oci") || type.equals("docker"))) {
      throw new UserError("-o: type must be oci or docker (use --push for a registry), got \"" + text + "\"");
    }
    if (dest == null || dest.isEmpty()) {
      throw new UserError("-o type=" + type + " needs dest=PATH");
    }
    return new OutputSpec(type, Path.of(dest));
  }
}
