package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A size-limited filesystem for one stage's writable state (worker setting {@code stage-disk}):
 * a sparse file formatted as ext4 and loop-mounted at the stage's workspace, so the overlay upper
 * dirs of its ops (everything RUN, COPY and ADD write) cannot grow past the limit however they
 * write. The host's file system sees only the blocks really written. Needs root and loop devices.
 *
 * <p>Why a loop device and not project quotas: quotas need the worker's file system mounted with
 * {@code prjquota}, which a worker cannot arrange for itself; a loop device works on any host
 * where runc does. Its cost is about 60 ms per stage (mkfs, mount, unmount) and a copy of the
 * stage's layers into the layer cache at the end instead of a rename.
 */
public final class StageDisk implements AutoCloseable {
  /**
   * Writes fail with this much still reported free: ext4 holds back 2 % of its blocks (at most 4096
   * clusters, 16 MiB) for delayed allocation, and some for metadata.
   */
  private static final long RESERVE_CAP = 16L << 20;
  private static final long METADATA_SLACK = 1L << 20;

  private final Path mountPoint;
  private final Path image;
  private final long limitBytes;

  private StageDisk(Path mountPoint, Path image, long limitBytes) {
    this.mountPoint = mountPoint;
    this.image = image;
    this.limitBytes = limitBytes;
  }

  /**
   * Formats a fresh filesystem of {@code limitBytes} in {@code image} and mounts it at {@code
   * mountPoint} (created if missing). On failure nothing is left mounted and the image is removed.
   */
  public static StageDisk mount(Path mountPoint, Path image, long limitBytes) throws IOException {
    if (limitBytes < (16L << 20)) {
      throw new IllegalArgumentException("a stage disk needs at least 16 MiB, got " + limitBytes);
    }
    Files.createDirectories(mountPoint);
    Files.deleteIfExists(image);
    try (var file = new java.io.RandomAccessFile(image.toFile(), "rw")) {
      file.setLength(limitBytes); // sparse: no block is allocated until written
    }
    try {
      // no journal (a stage's disk never outlives a crash), no reserved blocks, inode tables lazily
      HostProcess.run(List.of("mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal",
          "-E", "lazy_itable_init=1,nodiscard", image.toAbsolutePath().toString()), null);
      HostProcess.run(List.of("mount", "-o", "loop", image.toAbsolutePath().toString(),
          mountPoint.toAbsolutePath().toString()), null);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(image);
      throw new IOException("cannot make the stage's disk (stage-disk=" + Sizes.format(limitBytes) + "): "
          + e.getMessage(), e);
    }
    return new StageDisk(mountPoint, image, limitBytes);
  }

  /** Whether this host can make stage disks: mkfs.ext4 on PATH and the loop device control node. */
  public static boolean available() {
    if (!Files.exists(Path.of("/dev/loop-control"))) {
      return false;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/sbin").split(":")) {
      if (Files.isExecutable(Path.of(dir, "mkfs.ext4"))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin/mkfs.ext4")) || Files.isExecutable(Path.of("/sbin/mkfs.ext4"));
  }

  /** Whether the stage has used up its disk: a failed write here is the limit, not a host fault. */
  public boolean full() {
    try {
      return Files.getFileStore(mountPoint).getUsableSpace() < Math.min(limitBytes / 50, RESERVE_CAP) + METADATA_SLACK;
    } catch (IOException e) {
      return false;
    }
  }

  /** The setting as the user would write it, for error messages. */
  public String setting() {
    return "stage-disk=" + Sizes.format(limitBytes);
  }

  /** Unmounts (the loop device is released with it) and deletes the image. */
  @Override
  public void close() throws IOException {
    try {
      Mounts.unmount(mountPoint);
    } finally {
      Files.deleteIfExists(image);
    }
  }
}
