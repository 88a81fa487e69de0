package dev.stagefarm.program;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.proto.Topics;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Which task topic carries the stages of a platform (docs/protocol.md, "Platforms"). Each routed
 * platform has a topic of its own — {@code linux/amd64} keeps {@link Topics#TASKS}, the others are
 * {@code stagefarm.tasks.<os>-<arch>[-<variant>]} — and a worker consumes the topics of the
 * platforms it runs, all in the one share group. So a task only ever reaches a worker that can run
 * it, with no release-and-skip: a thousand amd64 workers never see an arm64 task.
 */
public final class TaskRouting {
  /**
   * The platforms a farm routes, those Debian's qemu-user-static can run on another host: a fixed
   * set, so every topic exists from the start (created with the others) and ACLs can name them.
   */
  public static final List<Platform> PLATFORMS = List.of(
      new Platform("linux", "amd64"),
      new Platform("linux", "arm64"),
      new Platform("linux", "arm", "v7"),
      new Platform("linux", "arm", "v6"),
      new Platform("linux", "386"),
      new Platform("linux", "ppc64le"),
      new Platform("linux", "s390x"),
      new Platform("linux", "riscv64"));

  private TaskRouting() {}

  /**
   * The canonical form containerd and BuildKit use: {@code arm64/v8} is {@code arm64}, plain
   * {@code arm} is {@code arm/v7}, amd64 micro-architecture levels are dropped.
   */
  public static Platform normalize(Platform platform) {
    String os = platform.os().toLowerCase(Locale.ROOT);
    String arch = platform.architecture().toLowerCase(Locale.ROOT);
    String variant = platform.variant().toLowerCase(Locale.ROOT);
    switch (arch) {
      case "x86_64", "x86-64" -> arch = "amd64";
      case "aarch64" -> arch = "arm64";
      case "i386", "i686" -> arch = "386";
      default -> {}
    }
    if (arch.equals("arm64") && variant.equals("v8") || arch.equals("amd64")) {
      variant = "";
    }
    if (arch.equals("arm") && variant.isEmpty()) {
      variant = "v7";
    }
    return new Platform(os, arch, variant);
  }

  /** The platform of this JVM's machine in OCI terms ({@code linux/amd64}, {@code linux/arm64}). */
  public static Platform hostPlatform() {
    String name = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    String os = name.startsWith("linux") ? "linux" : name;
    return normalize(new Platform(os, System.getProperty("os.arch")));
  }

  /** Whether the farm has a task topic for this platform. */
  public static boolean routed(Platform platform) {
    return PLATFORMS.contains(normalize(platform));
  }

  /**
   * The task topic of a platform.
   *
   * @throws IllegalArgumentException for a platform the farm does not route, naming those it does
   */
  public static String topic(Platform platform) {
    Platform p = normalize(platform);
    if (!PLATFORMS.contains(p)) {
      throw new IllegalArgumentException("the farm builds for " + supported() + ", not " + p);
    }
    if (p.equals(PLATFORMS.getFirst())) {
      return Topics.TASKS;
    }
    return Topics.TASKS + "." + p.os() + "-" + p.architecture() + (p.variant().isEmpty() ? "" : "-" + p.variant());
  }

  /** Every task topic, {@link Topics#TASKS} first. */
  public static List<String> topics() {
    return PLATFORMS.stream().map(TaskRouting::topic).toList();
  }

  /** The routed platforms as text, for messages. */
  public static String supported() {
    return PLATFORMS.stream().map(Platform::toString).collect(Collectors.joining(", "));
  }
}
