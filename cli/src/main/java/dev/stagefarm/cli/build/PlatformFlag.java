package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.proto.v1.Platform;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --platform}: buildx takes a comma-separated list. Several platforms make one build per
 * platform whose images come out as one image index ({@link MultiPlatformBuild}).
 */
public final class PlatformFlag {
  private PlatformFlag() {}

  /** The platforms asked for, in order; empty for an empty flag (the farm's own platform). */
  public static List<Platform> parse(String flag) {
    List<Platform> platforms = new ArrayList<>();
    for (String text : flag.split(",", -1)) {
      if (flag.isBlank()) {
        break;
      }
      platforms.add(one(text.strip(), flag));
    }
    if (platforms.stream().distinct().count() < platforms.size()) {
      throw new UserError("--platform " + flag + ": a platform is given twice");
    }
    return List.copyOf(platforms);
  }

  private static Platform one(String text, String flag) {
    String[] parts = text.split("/", -1);
    if (parts.length < 2 || parts.length > 3 || java.util.Arrays.stream(parts).anyMatch(String::isEmpty)) {
      throw new UserError("--platform wants OS/ARCH[/VARIANT][,…], got \"" + flag + "\"");
    }
    Platform.Builder platform = Platform.newBuilder().setOs(parts[0]).setArchitecture(parts[1]);
    if (parts.length == 3) {
      platform.setVariant(parts[2]);
    }
    return platform.build();
  }
}
