package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.layers.Trees;
import dev.stagefarm.worker.runtime.Mounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stage's scratch space on the worker: the stack of lower dirs (the base's cached layers, then
 * the upper dir of each filesystem-changing op so far), and the mounts made on it.
 * {@link #close()} unmounts everything below it and deletes it, whatever happened.
 *
 * <pre>
 *   ws/u3  ws/w3  ws/m  ws/k3   upper, overlay work dir, merged view, lower-dir links of op 3
 * </pre>
 */
final class StageWorkspace implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StageWorkspace.class);

  final Path dir;
  private final List<Path> stack = new ArrayList<>(); // the stage's filesystem, bottom first
  private final List<LayerCache.Lease> leases = new ArrayList<>(); // released with the workspace
  private final List<Path> producedUppers = new ArrayList<>();
  private final List<dev.stagefarm.oci.Digest> producedDiffIds = new ArrayList<>();

  StageWorkspace(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
  }

  /** A cached layer on top of the stage's filesystem (base layers, bottom first; cache hits). */
  void stackLayer(LayerCache.Lease lease) {
    leases.add(lease);
    stack.add(lease.dir());
  }

  /** A cached layer used beside the filesystem (a --from input view): held, not stacked. */
  void hold(LayerCache.Lease lease) {
    leases.add(lease);
  }

  /** Lower dirs, topmost first; an empty dir when there are none (FROM scratch). */
  List<Path> lowers() throws IOException {
    List<Path> lowers = new ArrayList<>(stack.reversed());
    if (lowers.isEmpty()) {
      Path empty = Files.createDirectories(dir.resolve("empty"));
      lowers.add(empty);
    }
    return lowers;
  }

  /** A writable view for one op: the current stack plus a fresh upper dir. */
  Layered mountWritable(String name) throws IOException {
    Path upper = Files.createDirectories(dir.resolve("u" + name));
    Path work = Files.createDirectories(dir.resolve("w" + name));
    Path merged = dir.resolve("m" + name);
    Mounts.overlay(lowers(), upper, work, merged, dir.resolve("k" + name));
    return new Layered(upper, work, merged);
  }

  /** The upper dir of a finished op becomes the next op's top lower dir. */
  void pushLayer(Path upper, dev.stagefarm.oci.Digest diffId) {
    stack.add(upper);
    producedUppers.add(upper);
    producedDiffIds.add(diffId);
  }

  /**
   * Hands the stage's upper dirs to the layer cache under their diff_ids: a later stage on this
   * worker that builds on this result stacks them directly instead of extracting the blobs.
   * Called once the stage succeeded and nothing is mounted on them any more.
   */
  void adoptLayersInto(LayerCache cache) {
    for (int i = 0; i < producedUppers.size(); i++) {
      try {
        cache.adopt(producedDiffIds.get(i), producedUppers.get(i),
            Trees.sizeOf(producedUppers.get(i)));
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
      Trees.deleteRecursively(dir);
    } catch (IOException e) {
      log.warn("removing stage workspace {} failed: {}", dir, e.toString());
    }
  }
}
