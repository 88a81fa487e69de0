package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Kernel mounts the worker makes on the host: overlayfs stacks and tmpfs. Needs root.
 *
 * <p>Made with system calls through JNA ({@link NativeMounts}); only where JNA cannot load (the log says why,
 * once) with the {@code mount}/{@code umount} tools, a process each ({@link ToolMounts}).
 *
 * <p>Why the relative paths: the kernel limits mount options to one page (4096 bytes). A stack of
 * many layers would overflow it with absolute paths, so each lower dir gets a short symlink in a
 * per-mount "links" dir and the mount is made with that dir as its working directory.
 */
public final class Mounts {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Mounts.class);
  private static final MountCalls CALLS = chooseCalls();

  private Mounts() {}

  private static MountCalls chooseCalls() {
    Libc.Loaded libc = Libc.LOADED;
    if (libc.calls() == null) {
      log.warn("mounting with the mount and umount tools, a process per mount: {}", libc.failure());
      return new ToolMounts();
    }
    return new NativeMounts(libc.calls());
  }

  /** How this worker makes its mounts (for the log and tests). */
  public static String means() {
    return CALLS.means();
  }

  /**
   * Mounts an overlay at {@code target}.
   *
   * @param lowers lower dirs, topmost first (at least one)
   * @param upper the writable upper dir, or null for a read-only view
   * @param work overlayfs' work dir (same filesystem as upper), or null with upper null; a {@code volatile}
   *     mount's work dir cannot serve another mount: delete it after the unmount
   * @param links an empty scratch dir for the short lower-dir names
   */
  public static void overlay(List<Path> lowers, Path upper, Path work, Path target, Path links) throws IOException {
    if (lowers.isEmpty()) {
      throw new IllegalArgumentException("an overlay needs at least one lower dir");
    }
    Files.createDirectories(links);
    Files.createDirectories(target);
    if (upper == null && lowers.size() == 1) {
      // overlayfs needs two lowers without an upper: a bind mount is the same read-only view
      CALLS.bindReadOnly(lowers.get(0), target);
      return;
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < lowers.size(); i++) {
      String name = Integer.toString(i, 36);
      Path link = links.resolve(name);
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, lowers.get(i).toAbsolutePath());
      names.add(name);
    }
    StringBuilder options = new StringBuilder("lowerdir=").append(String.join(":", names));
    if (upper != null) {
      options.append(",upperdir=").append(upper.toAbsolutePath()).append(",workdir=").append(work.toAbsolutePath());
    }
    // index=off/xino=off: lowers are shared by concurrent stages, and an upper from one mount becomes a lower of the next
    options.append(",index=off,xino=off");
    // volatile (Linux 5.10+; mounted without it where the kernel refuses it): no sync of the upper file system at
    // umount. Without it every RUN's umount wrote back all of the host disk's dirty data (other stages' uppers,
    // blobs, the broker's log): 0.01-0.35 s per umount2 on a quiet host, 0.5-1.2 s per unmount in the 8-stage
    // fan-out. Nothing needs the upper dir durable: it becomes a layer tar (uploaded) and a layer-cache entry
    // that a restart checks against its record, as extracted layers, which are not synced either. Its work
    // dir is not reused (the caller deletes it).
    if (upper != null && volatileUpper) {
      try {
        CALLS.overlay(options + ",volatile", target, links);
        return;
      } catch (IOException refused) {
        CALLS.overlay(options.toString(), target, links); // fails as before when the mount itself is wrong
        volatileUpper = false; // this kernel has no volatile overlays (before 5.10): asked once only
        log.info("overlayfs refused the volatile option ({}); mounting upper dirs without it", refused.getMessage());
        return;
      }
    }
    CALLS.overlay(options.toString(), target, links);
  }

  /** Whether writable overlays get {@code volatile}; false once the kernel refused it. */
  private static volatile boolean volatileUpper = true;

  /** A tmpfs at {@code target} (for secrets: never on disk). */
  public static void tmpfs(Path target, String options) throws IOException {
    Files.createDirectories(target);
    CALLS.tmpfs(options, target);
  }

  /**
   * Unmounts {@code target}; lazily when it is busy, so a cleanup never hangs. Not mounted: no-op; a symlink is
   * never followed to the mount it points at.
   */
  public static void unmount(Path target) throws IOException {
    CALLS.unmount(target);
  }

  /** Every mount point under {@code root}, deepest first (the order to unmount them in). */
  public static List<Path> mountPointsUnder(Path root) throws IOException {
    String prefix = root.toAbsolutePath().normalize() + "/";
    return mountPoints().stream()
        .filter(p -> p.startsWith(prefix))
        .sorted((a, b) -> Integer.compare(b.length(), a.length()))
        .map(Path::of)
        .toList();
  }

  static Set<String> mountPoints() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(line -> line.split(" ")[4])
        .map(Mounts::unescape)
        .collect(Collectors.toSet());
  }

  /** mountinfo escapes space, tab, newline and backslash as octal. */
  private static String unescape(String s) {
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }
}
