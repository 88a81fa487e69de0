package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.layers.Trees;
import dev.stagefarm.worker.layers.XattrIndex;
import dev.stagefarm.worker.runtime.HostProcess;
import dev.stagefarm.worker.runtime.Mounts;
import dev.stagefarm.worker.runtime.StageDisk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stage's scratch space on the worker: the stack of lower dirs (the base's cached layers, then
 * the upper dir of each filesystem-changing op so far), and the mounts made on it.
 * {@link #close()} unmounts everything below it and deletes it, whatever happened.
 *
 * <pre>
 *   ws/u3  ws/w3  ws/m  ws/k3   upper, overlay work dir, merged view, lower-dir links of op 3
 *   ws.out/                     layer archives on their way to the store (never on the stage disk)
 * </pre>
 *
 * <p>With a {@code stage-disk} limit, {@code ws} is a {@link StageDisk}: what the stage's ops write
 * cannot outgrow it, and {@link #diskFull()} tells a write that failed for that reason from a host
 * fault.
 */
final class StageWorkspace implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StageWorkspace.class);

  final Path dir;
  /** Files the worker itself writes for the stage (layer archives): beside the stage disk, not on it. */
  final Path out;
  private final StageDisk disk; // null: no stage-disk limit
  private final List<LayerStack.Layer> stack = new ArrayList<>(); // the stage's filesystem, bottom first
  private final List<LayerCache.Lease> leases = new ArrayList<>(); // released with the workspace
  private final List<Path> producedUppers = new ArrayList<>();
  private final List<dev.stagefarm.oci.Digest> producedDiffIds = new ArrayList<>();
  private final List<XattrIndex> producedXattrs = new ArrayList<>();

  StageWorkspace(Path dir) throws IOException {
    this(dir, 0);
  }

  /** @param diskLimit bytes the stage may write in all; 0: no limit (no stage disk) */
  StageWorkspace(Path dir, long diskLimit) throws IOException {
    this.dir = dir;
    this.out = dir.resolveSibling(dir.getFileName() + ".out");
    Files.createDirectories(out);
    try {
      this.disk = diskLimit > 0 ? StageDisk.mount(dir, dir.resolveSibling(dir.getFileName() + ".disk"), diskLimit) : null;
    } catch (IOException e) {
      Trees.deleteRecursively(out);
      throw e;
    }
    Files.createDirectories(dir);
  }

  /** The {@code stage-disk} setting when the stage has used it up: a failed write is then the stage's doing. */
  Optional<String> exhaustedDisk() {
    return disk != null && disk.full() ? Optional.of(disk.setting()) : Optional.empty();
  }

  /**
   * The {@code stage-disk} setting when {@code failure} came from the stage's disk running out:
   * it is full now, or the write failed with ENOSPC (what failed to fit may be gone again, such
   * as a partly fetched context file). The stage's own writes all land on its disk.
   */
  Optional<String> exhaustedDisk(IOException failure) {
    if (disk == null) {
      return Optional.empty();
    }
    String message = String.valueOf(failure.getMessage());
    return disk.full() || message.contains("No space left on device") ? Optional.of(disk.setting()) : Optional.empty();
  }

  /** A cached layer on top of the stage's filesystem (base layers, bottom first; cache hits). */
  void stackLayer(LayerCache.Lease lease) throws IOException {
    leases.add(lease);
    stack.add(new LayerStack.Layer(lease.dir(), lease.xattrs()));
  }

  /** A cached layer used beside the filesystem (a --from input view): held, not stacked. */
  void hold(LayerCache.Lease lease) {
    leases.add(lease);
  }

  /** Lower dirs, topmost first; an empty dir when there are none (FROM scratch). */
  List<Path> lowers() throws IOException {
    List<Path> lowers = new ArrayList<>(stack.reversed().stream().map(LayerStack.Layer::dir).toList());
    if (lowers.isEmpty()) {
      Path empty = Files.createDirectories(dir.resolve("empty"));
      lowers.add(empty);
    }
    return lowers;
  }

  /** The stage's filesystem so far as layers to read without a mount (topmost first). */
  LayerStack lowerStack() {
    return new LayerStack(stack.reversed());
  }

  /** A fresh empty upper dir for op {@code name}, written without a mount. */
  Path freshUpper(String name) throws IOException {
    return Files.createDirectory(dir.resolve("u" + name));
  }

  /** A writable view for one op: the current stack plus a fresh upper dir. */
  Layered mountWritable(String name) throws IOException {
    Path upper = Files.createDirectories(dir.resolve("u" + name));
    Path work = Files.createDirectories(dir.resolve("w" + name));
    Path merged = dir.resolve("m" + name);
    Mounts.overlay(lowers(), upper, work, merged, dir.resolve("k" + name));
    return new Layered(upper, work, merged);
  }

  /** The upper dir of a finished op (with its xattrs) becomes the next op's top lower dir. */
  void pushLayer(Path upper, dev.stagefarm.oci.Digest diffId, XattrIndex xattrs) {
    stack.add(new LayerStack.Layer(upper, xattrs));
    producedUppers.add(upper);
    producedDiffIds.add(diffId);
    producedXattrs.add(xattrs);
  }

  /**
   * Hands the stage's upper dirs to the layer cache under their diff_ids: a later stage on this
   * worker that builds on this result stacks them directly instead of extracting the blobs.
   * Called once the stage succeeded and nothing is mounted on them any more.
   */
  void adoptLayersInto(LayerCache cache) {
    for (int i = 0; i < producedUppers.size(); i++) {
      try {
        Path upper = producedUppers.get(i);
        if (disk != null) {
          // the stage disk goes away with the stage: the cache keeps a copy on the host's file system
          Path copy = out.resolve("adopt-" + i);
          HostProcess.run(List.of("cp", "-a", upper.toAbsolutePath().toString(), copy.toAbsolutePath().toString()), null);
          upper = copy;
        }
        cache.adopt(producedDiffIds.get(i), upper, producedXattrs.get(i));
      } catch (IOException e) {
        log.warn("keeping layer {} in the cache failed: {}", producedDiffIds.get(i), e.toString());
      }
    }
  }

  /** A mounted overlay for one op; closing unmounts it (the upper dir stays). */
  final class Layered implements AutoCloseable {
    final Path upper;
    final Path work;
    final Path merged;

    Layered(Path upper, Path work, Path merged) {
      this.upper = upper;
      this.work = work;
      this.merged = merged;
    }

    /** The {@code stage-disk} setting when the stage has used it up (a failed write is then the stage's doing). */
    Optional<String> exhaustedDisk() {
      return StageWorkspace.this.exhaustedDisk();
    }

    @Override
    public void close() throws IOException {
      Mounts.unmount(merged);
      Trees.deleteRecursively(work);
      Files.deleteIfExists(merged);
    }
  }

  @Override
  public void close() {
    try {
      for (Path mount : Mounts.mountPointsUnder(dir)) {
        Mounts.unmount(mount);
      }
    } catch (IOException e) {
      log.warn("unmounting under {} failed: {}", dir, e.toString());
    }
    leases.forEach(LayerCache.Lease::close);
    try {
      if (disk != null) {
        disk.close();
      }
      Trees.deleteRecursively(dir);
      Trees.deleteRecursively(out);
    } catch (IOException e) {
      log.warn("removing stage workspace {} failed: {}", dir, e.toString());
    }
  }
}
