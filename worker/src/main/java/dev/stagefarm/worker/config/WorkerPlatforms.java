package dev.stagefarm.worker.config;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.TaskRouting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The worker key {@code platforms}: which platforms' stages a worker takes. Its own platform
 * always works; another one only through an emulator the kernel runs for foreign binaries
 * (binfmt_misc with Debian's qemu-user-static), which is checked when the key is read, so a worker
 * never takes stages it would fail with "exec format error".
 */
public final class WorkerPlatforms {
  /** Where the kernel lists its binfmt_misc handlers. */
  public static final Path BINFMT_MISC = Path.of("/proc/sys/fs/binfmt_misc");

  /** qemu-user-static's handler names (qemu's architecture names) by OCI architecture. */
  private static final Map<String, String> QEMU = Map.of(
      "amd64", "x86_64", "arm64", "aarch64", "arm", "arm", "386", "i386",
      "ppc64le", "ppc64le", "s390x", "s390x", "riscv64", "riscv64");

  private WorkerPlatforms() {}

  /** This host's platform, e.g. {@code linux/amd64}. */
  public static Platform host() {
    return TaskRouting.hostPlatform();
  }

  /**
   * Parses {@code linux/amd64,linux/arm64}: each a platform the farm routes, none twice, and each
   * other than the host's backed by an enabled qemu handler in {@code binfmtMisc}.
   */
  public static List<Platform> parse(String value, Path binfmtMisc) {
    List<Platform> platforms = new ArrayList<>();
    for (String text : value.split(",")) {
      if (text.isBlank()) {
        continue;
      }
      Platform platform;
      try {
        platform = TaskRouting.normalize(Platform.parse(text));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("platforms: " + e.getMessage());
      }
      if (!TaskRouting.routed(platform)) {
        throw new ConfigException("platforms: the farm builds for " + TaskRouting.supported() + ", not " + platform);
      }
      if (platforms.contains(platform)) {
        throw new ConfigException("platforms: " + platform + " is given twice");
      }
      if (!platform.equals(host())) {
        requireEmulator(platform, binfmtMisc);
      }
      platforms.add(platform);
    }
    if (platforms.isEmpty()) {
      throw new ConfigException("platforms: name at least one platform, e.g. " + host());
    }
    return List.copyOf(platforms);
  }

  private static void requireEmulator(Platform platform, Path binfmtMisc) {
    String qemu = QEMU.get(platform.architecture());
    Path handler = binfmtMisc.resolve("qemu-" + qemu);
    String state;
    try {
      state = Files.isRegularFile(handler) ? Files.readAllLines(handler).stream().findFirst().orElse("") : "";
    } catch (IOException e) {
      state = "";
    }
    if (!platform.os().equals(host().os()) || !state.strip().equals("enabled")) {
      throw new ConfigException("platforms: " + platform + " is not this host's platform (" + host() + ") and the"
          + " kernel has no enabled emulator for it (" + handler + "): install qemu-user-static (Debian) so"
          + " binfmt_misc runs its binaries, or leave " + platform + " out");
    }
  }
}
