package dev.stagefarm.worker.exec;

import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.layers.LayerCache;
import dev.stagefarm.worker.layers.Trees;
import dev.stagefarm.worker.runtime.Mounts;
import dev.stagefarm.worker.store.LayerRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a stage's ops read besides its own rootfs, as host directories under the stage workspace:
 * the results of other stages and images ({@code COPY --from}, {@code RUN --mount from=}): their
 * layers in the host's store read directly ({@link #layers}, no mount), or where a merged host
 * directory is needed (a RUN mount, a wildcard over several layers) mounted once per stage as a
 * read-only overlay of those layers; and the build-context entries an op selected, written for
 * that op alone and removed after it.
 */
final class StageSources {
  private final StageJob job;
  private final LayerCache layers;
  private final ContextMaterialiser context;
  private final StageWorkspace workspace;
  private final Map<String, Path> inputViews = new HashMap<>();
  private final Map<String, LayerStack> inputLayers = new HashMap<>();
  private int selections;

  StageSources(StageJob job, LayerCache layers, ContextMaterialiser context, StageWorkspace workspace) {
    this.job = job;
    this.layers = layers;
    this.context = context;
    this.workspace = workspace;
  }

  /** Input {@code id}'s layers leased from the host's store, top first, held until the workspace ends. */
  private List<LayerCache.Lease> leaseLayers(String id) throws IOException, UserError {
    StageState state = job.inputs().get(id);
    if (state == null) {
      throw new UserError("the program reads input " + id + ", which it does not declare");
    }
    List<LayerCache.Lease> leases = new ArrayList<>();
    for (LayerRef layer : state.layers().reversed()) {
      LayerCache.Lease lease = layers.acquire(layer.diffId(), layer.blob().digest());
      workspace.hold(lease); // released with the workspace; not part of this stage's filesystem
      leases.add(lease);
    }
    return leases;
  }

  /** The layers of input {@code id} in the host's store, held until the stage ends; read them, never write. */
  LayerStack layers(String id) throws IOException, UserError {
    LayerStack stack = inputLayers.get(id);
    if (stack != null) {
      return stack;
    }
    List<LayerStack.Layer> stacked = new ArrayList<>();
    for (LayerCache.Lease lease : leaseLayers(id)) {
      stacked.add(new LayerStack.Layer(lease.dir(), lease.xattrs()));
    }
    stack = new LayerStack(stacked);
    inputLayers.put(id, stack);
    return stack;
  }

  /** The root filesystem of input {@code id} (a read-only mounted view). */
  Path input(String id) throws IOException, UserError {
    Path view = inputViews.get(id);
    if (view != null) {
      return view;
    }
    List<Path> lowers = new ArrayList<>();
    for (LayerCache.Lease lease : leaseLayers(id)) {
      lowers.add(lease.dir());
    }
    String name = "i" + inputViews.size();
    view = workspace.dir.resolve(name);
    if (lowers.isEmpty()) {
      Files.createDirectories(view);
    } else {
      Mounts.overlay(lowers, null, null, view, workspace.dir.resolve("k" + name));
    }
    inputViews.put(id, view);
    return view;
  }

  /** Whose cache mounts this stage uses: the build's owner ("" for cache mounts by id alone). */
  String cacheScope() {
    return job.cacheScope();
  }

  /** How messages name input {@code id}: as the Dockerfile did. */
  String inputName(String id) {
    return job.program().input(id).map(ProgramInput::name).orElse(id);
  }

  /** What identifies input {@code id}'s content: its cache key (seeded cache mounts are keyed by it, as in BuildKit). */
  String inputIdentity(String id) {
    return job.program().input(id).map(i -> i.key().hex()).orElse(id);
  }

  /** The context entries of {@code selection}, written for op {@code op}; the returned path is the match. */
  Path context(ContextSelection selection, int op) throws IOException, UserError {
    Path dir = Files.createDirectories(opDir(op));
    return context.materialise(selection, dir.resolve(Integer.toString(selections++)));
  }

  /** A fresh empty host directory in the stage workspace (outside every layer), gone with the workspace. */
  Path scratchDir(String prefix) throws IOException {
    return Files.createTempDirectory(workspace.dir, prefix);
  }

  /** Removes what op {@code op} fetched from the context. */
  void endOp(int op) throws IOException {
    Trees.deleteRecursively(opDir(op));
  }

  private Path opDir(int op) {
    return workspace.dir.resolve("c" + op);
  }
}
