package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Layer;
import dev.stagefarm.proto.v1.StageInput;
import dev.stagefarm.proto.v1.StageTask;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.runtime.Mounts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Read-only directory views of what a stage reads besides its own rootfs: the build context
 * (materialised from the content store once per stage) and the results of other stages or
 * images ({@code COPY --from}, {@code RUN --mount from=}), mounted as read-only overlays of their
 * cached layers. Everything lives under the stage workspace and goes with it.
 */
final class SourceViews {
  private final StageTask task;
  private final BlobStore store;
  private final LayerCache layers;
  private final StageWorkspace workspace;
  private final Map<String, Path> inputs = new HashMap<>();
  private Path context;

  SourceViews(StageTask task, BlobStore store, LayerCache layers, StageWorkspace workspace) {
    this.task = task;
    this.store = store;
    this.layers = layers;
    this.workspace = workspace;
  }

  /** The build context as a directory tree (files, dirs, symlinks with their modes and mtimes). */
  Path context(int instruction, int line) throws StageFailedException, IOException {
    if (context != null) {
      return context;
    }
    Path dir = Files.createDirectories(workspace.dir.resolve("ctx"));
    if (!task.getContextManifest().isEmpty()) {
      ContextManifest manifest = readManifest(instruction, line);
      List<ContextEntry> dirs = new ArrayList<>();
      for (ContextEntry entry : manifest.getEntriesList()) {
        Path target = safeChild(dir, entry.getPath());
        Files.createDirectories(target.getParent());
        switch (entry.getType()) {
          case DIRECTORY -> {
            Files.createDirectories(target);
            dirs.add(entry);
          }
          case SYMLINK -> Files.createSymbolicLink(target, Path.of(entry.getLinkTarget()));
          default -> {
            try (InputStream in = store.open(Namespace.CONTEXT, Digest.parse(entry.getDigest()))) {
              Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            FileAttrs.setMode(target, entry.getMode());
            Files.setLastModifiedTime(target, FileTime.fromMillis(entry.getMtimeMs()));
          }
          case UNRECOGNIZED -> throw new IOException("context entry " + entry.getPath() + " has an unknown type");
        }
      }
      for (ContextEntry d : dirs.reversed()) { // children first: setting a dir's mtime last
        Path target = safeChild(dir, d.getPath());
        FileAttrs.setMode(target, d.getMode() == 0 ? 0755 : d.getMode());
        Files.setLastModifiedTime(target, FileTime.fromMillis(d.getMtimeMs()));
      }
    }
    context = dir;
    return dir;
  }

  /** A fresh empty host directory in the stage workspace (outside every layer), gone with the workspace. */
  Path scratchDir(String prefix) throws IOException {
    return Files.createTempDirectory(workspace.dir, prefix);
  }

  /**
   * What identifies the content of input {@code name} (its layers' diff_ids, hashed), or empty when
   * the task carries no such input. Seeded cache mounts are keyed by it, as BuildKit keys a cache
   * mount with {@code from=} by the base ref.
   */
  String inputIdentity(String name) {
    for (StageInput in : task.getInputsList()) {
      if (in.getName().equalsIgnoreCase(name)) {
        StringBuilder ids = new StringBuilder();
        in.getResult().getLayersList().forEach(l -> ids.append(l.getDiffId()).append('\n'));
        return Digest.of(ids.toString()).hex();
      }
    }
    return "";
  }

  /** The root filesystem of stage or image {@code name} as the task carries it in its inputs. */
  Path input(String name, int instruction, int line) throws StageFailedException, IOException {
    String key = name.toLowerCase(Locale.ROOT);
    Path view = inputs.get(key);
    if (view != null) {
      return view;
    }
    ImageState state = null;
    for (StageInput in : task.getInputsList()) {
      if (in.getName().equalsIgnoreCase(name)) {
        state = in.getResult();
      }
    }
    if (state == null) {
      throw new StageFailedException(StageFailure.build(instruction, line,
          "the task carries no result for '" + name + "' (needed by --from / from=)"));
    }
    List<Path> lowers = new ArrayList<>();
    for (Layer layer : state.getLayersList().reversed()) {
      LayerCache.Lease lease = layers.acquire(Digest.parse(layer.getDiffId()), Digest.parse(layer.getBlob().getDigest()));
      workspace.hold(lease); // released with the workspace; not part of this stage's filesystem
      lowers.add(lease.dir());
    }
    String id = "i" + inputs.size();
    if (lowers.isEmpty()) {
      view = Files.createDirectories(workspace.dir.resolve(id));
    } else {
      view = workspace.dir.resolve(id);
      Mounts.overlay(lowers, null, null, view, workspace.dir.resolve("k" + id));
    }
    inputs.put(key, view);
    return view;
  }

  private ContextManifest readManifest(int instruction, int line) throws StageFailedException, IOException {
    String ref = task.getContextManifest();
    String hex = ref.substring(ref.lastIndexOf('/') + 1);
    try {
      return ContextManifest.parseFrom(store.readAllBytes(Namespace.CONTEXT, Digest.parse("sha256:" + hex)));
    } catch (dev.stagefarm.oci.BlobNotFoundException e) {
      throw new StageFailedException(StageFailure.infrastructure(instruction, line,
          "the build context manifest " + ref + " is not in the content store"), e);
    }
  }

  /** {@code rel} under {@code root}, refusing absolute paths and ".." (a hostile manifest). */
  static Path safeChild(Path root, String rel) throws IOException {
    Path p = root.resolve(rel).normalize();
    if (rel.startsWith("/") || !p.startsWith(root)) {
      throw new IOException("context path escapes the context: " + rel);
    }
    return p;
  }

  static boolean exists(Path p) {
    return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
  }
}
