package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.cache.CacheKeys;
import dev.stagefarm.coordinator.cache.CacheKeys.KeyedInstruction;
import dev.stagefarm.coordinator.cache.ContextSelector;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.dockerfile.graph.StageBase;
import dev.stagefarm.dockerfile.graph.StageGraph;
import dev.stagefarm.dockerfile.instructions.AddInstruction;
import dev.stagefarm.dockerfile.instructions.CopyInstruction;
import dev.stagefarm.dockerfile.instructions.DockerfileModel;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.InstructionParser;
import dev.stagefarm.dockerfile.instructions.MountType;
import dev.stagefarm.dockerfile.instructions.OnbuildInstruction;
import dev.stagefarm.dockerfile.instructions.RunMount;
import dev.stagefarm.dockerfile.instructions.RunInstruction;
import dev.stagefarm.dockerfile.instructions.StageScope;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.proto.v1.CacheRecord;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.ImageState;
import dev.stagefarm.proto.v1.Platform;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Plans a build: parses the Dockerfile, prunes the stage graph to the target, pins base images,
 * computes every instruction's cache key (DESIGN.md §7) and completes the stages whose whole
 * chain is cached from their cache records.
 */
public final class DockerfilePlanner implements BuildPlanner {
  private final PlanningStore store;
  private final BaseImageResolver images;

  public DockerfilePlanner(PlanningStore store, BaseImageResolver images) {
    this.store = store;
    this.images = images;
  }

  @Override
  public BuildPlan plan(String buildId, SubmitBuildRequest request) throws PlanningException {
    String fileName = request.getDockerfileName().isEmpty() ? "Dockerfile" : request.getDockerfileName();
    try {
      return new Planning(buildId, request, fileName).plan();
    } catch (DockerfileException e) {
      throw new PlanningException(e.describe(fileName), e);
    } catch (IllegalArgumentException e) {
      throw new PlanningException(fileName + ": " + e.getMessage(), e);
    }
  }

  /** What planning learned about a stage, for the stages built on or copying from it. */
  private record StageOutcome(
      String id, String finalKey, List<String> imageEnv, Map<String, String> args, Optional<ImageState> cached) {}

  /** One planning run. */
  private final class Planning {
    final String buildId;
    final SubmitBuildRequest request;
    final String fileName;
    final Map<String, BaseImageResolver.ResolvedImage> resolved = new HashMap<>();
    final Map<Integer, StageOutcome> outcomes = new HashMap<>();
    String platformText;
    ContextSelector context;

    Planning(String buildId, SubmitBuildRequest request, String fileName) {
      this.buildId = buildId;
      this.request = request;
      this.fileName = fileName;
    }

    BuildPlan plan() throws PlanningException {
      byte[] dockerfile = request.getDockerfile().toByteArray();
      DockerfileModel model = InstructionParser.parse(DockerfileParser.parse(dockerfile));
      dev.stagefarm.dockerfile.graph.Platform target = platform(request.getPlatform());
      BuildOptions options =
          new BuildOptions(
              request.getTarget().isEmpty() ? null : request.getTarget(),
              request.getBuildArgsMap(),
              target,
              null);
      dev.stagefarm.dockerfile.graph.BuildPlan graph = StageGraph.plan(model, options);
      platformText = graph.targetPlatform().format();
      context = new ContextSelector(contextManifest());

      List<PlannedStage> stages = new ArrayList<>();
      for (dev.stagefarm.dockerfile.graph.PlannedStage stage : graph.runStages()) {
        stages.add(planStage(graph, stage));
      }
      dev.stagefarm.dockerfile.graph.Platform p = graph.targetPlatform();
      return new BuildPlan(
          buildId,
          dockerfile,
          request.getContextManifest().isEmpty()
              ? ""
              : "context/sha256/" + request.getContextManifest().substring("sha256:".length()),
          stages,
          outcomes.get(graph.targetIndex()).id(),
          request.getBuildArgsMap(),
          Platform.newBuilder().setOs(p.os()).setArchitecture(p.architecture()).setVariant(p.variant()).build());
    }

    private dev.stagefarm.dockerfile.graph.Platform platform(Platform requested) {
      if (requested.getOs().isEmpty() && requested.getArchitecture().isEmpty()) {
        return null;
      }
      return new dev.stagefarm.dockerfile.graph.Platform(
          requested.getOs(), requested.getArchitecture(), requested.getVariant());
    }

    private ContextManifest contextManifest() throws PlanningException {
      if (request.getContextManifest().isEmpty()) {
        return ContextManifest.getDefaultInstance();
      }
      try {
        return store.contextManifest(request.getContextManifest());
      } catch (IOException e) {
        throw new PlanningException(
            "reading the build context manifest " + request.getContextManifest() + " failed: " + e.getMessage(), e);
      }
    }

    private PlannedStage planStage(
        dev.stagefarm.dockerfile.graph.BuildPlan graph, dev.stagefarm.dockerfile.graph.PlannedStage stage)
        throws PlanningException {
      int index = stage.index();
      String id = stage.name().map(n -> index + "-" + n).orElse(Integer.toString(index));
      String name = stage.name().orElse(Integer.toString(index));

      Optional<ImageState> base = Optional.empty();
      Optional<String> baseStageId = Optional.empty();
      String root;
      List<String> baseEnv;
      Map<String, String> inheritedArgs = Map.of();
      Optional<ImageState> cachedBase;
      switch (stage.base()) {
        case StageBase.Image image -> {
          BaseImageResolver.ResolvedImage pinned = resolve(image.reference());
          base = Optional.of(pinned.state());
          cachedBase = base;
          root = CacheKeys.root(Optional.of(pinned.manifestDigest()), platformText);
          baseEnv = env(pinned.state());
        }
        case StageBase.StageRef ref -> {
          StageOutcome from = outcomes.get(ref.index());
          baseStageId = Optional.of(from.id());
          root = from.finalKey();
          baseEnv = from.imageEnv();
          inheritedArgs = from.args();
          cachedBase = from.cached();
        }
        case StageBase.Scratch scratch -> {
          ImageState empty = scratchState();
          base = Optional.of(empty);
          cachedBase = base;
          root = CacheKeys.root(Optional.empty(), platformText);
          baseEnv = List.of();
        }
      }

      Map<String, List<String>> stageInputs = new LinkedHashMap<>();
      Map<String, ImageState> imageInputs = new LinkedHashMap<>();
      for (Dependency dependency : stage.dependencies()) {
        if (dependency.kind() == Dependency.Kind.BASE) {
          continue;
        }
        if (dependency.isStage()) {
          StageOutcome from = outcomes.get(dependency.stageIndex());
          LinkedHashSet<String> names = new LinkedHashSet<>(stageInputs.getOrDefault(from.id(), List.of()));
          names.add(dependency.reference());
          names.add(Integer.toString(dependency.stageIndex()));
          graph.stage(dependency.stageIndex()).name().ifPresent(names::add);
          stageInputs.put(from.id(), List.copyOf(names));
        } else {
          imageInputs.put(dependency.reference(), resolve(dependency.reference()).state());
        }
      }

      // ONBUILD triggers of a base image: the worker runs them before the stage's instructions
      // (and never from the cache), so they head the key chain and may add inputs
      ImageTriggers imageTriggers =
          stage.base() instanceof StageBase.Image image
              ? imageTriggers(graph, stage, image.reference(), base.orElseThrow(), stageInputs, imageInputs)
              : ImageTriggers.NONE;
      List<Instruction> triggers = imageTriggers.instructions();
      Map<String, String> sourceKeys = sourceKeys(stage, imageTriggers.edges());

      StageScope scope = graph.scopeFor(index, baseEnv, inheritedArgs);
      List<String> keys = new ArrayList<>();
      List<dev.stagefarm.proto.v1.Instruction> summaries = new ArrayList<>();
      String parent = root;
      for (Instruction trigger : triggers) {
        Map<String, String> argsInScope = Map.copyOf(withoutNulls(scope.argValues()));
        Instruction expanded = atLine(stage.stage().origin().line(), () -> scope.apply(trigger));
        KeyedInstruction keyed = atLine(stage.stage().origin().line(), () -> keyed(expanded, argsInScope, sourceKeys));
        parent = CacheKeys.next(parent, keyed);
      }
      for (Instruction instruction : stage.instructions()) {
        Map<String, String> argsInScope = Map.copyOf(withoutNulls(scope.argValues()));
        Instruction expanded = scope.apply(instruction);
        parent = CacheKeys.next(parent, keyed(expanded, argsInScope, sourceKeys));
        keys.add(parent);
        summaries.add(
            dev.stagefarm.proto.v1.Instruction.newBuilder()
                .setLine(instruction.line())
                .setOriginal(instruction.original())
                .setKeyword(instruction.name())
                .setCacheKey(parent)
                .build());
      }
      List<Optional<CacheRecord>> records = request.getNoCache() ? List.of() : fetchRecords(keys);
      // the worker re-runs image triggers and records no cache for them: records of the stage's
      // own instructions alone would miss the triggers' layers
      Optional<ImageState> cached =
          triggers.isEmpty() ? cachedResult(cachedBase, records, "stage:" + stage.displayName()) : Optional.empty();
      outcomes.put(
          index,
          new StageOutcome(id, parent, scope.imageEnv(), Map.copyOf(withoutNulls(scope.argValues())), cached));
      return new PlannedStage(
          id, name, index, base, baseStageId, stageInputs, imageInputs, summaries, parent, cached);
    }

    /** Reduces an expanded instruction to what its cache key depends on. */
    private KeyedInstruction keyed(Instruction expanded, Map<String, String> argsInScope, Map<String, String> sourceKeys) {
      // the origin (line numbers, unexpanded text) is not part of the key: moving an
      // instruction without changing it keeps its cache
      String text = expanded.name() + " " + expanded.toString().replace(expanded.origin().toString(), "");
      return switch (expanded) {
        // ARG values are environment variables of a RUN: all in scope count
        case RunInstruction run ->
            new KeyedInstruction(text, argsInScope, List.of(), Optional.empty(), mountSources(run, sourceKeys), Optional.empty());
        case CopyInstruction copy when copy.hasFrom() ->
            new KeyedInstruction(text, Map.of(), List.of(), Optional.of(sourceKey(sourceKeys, Dependency.Kind.COPY_FROM, copy.from(), copy)));
        case CopyInstruction copy ->
            new KeyedInstruction(text, Map.of(), selectContext(copy.files().sourcePaths(), copy), Optional.empty());
        case AddInstruction add ->
            new KeyedInstruction(
                text,
                Map.of(),
                selectContext(add.files().sourcePaths().stream().filter(p -> !isRemote(p)).toList(), add),
                Optional.empty(),
                List.of(),
                unverifiedDownload(add) ? Optional.of(buildId) : Optional.empty());
        default -> new KeyedInstruction(text, Map.of(), List.of(), Optional.empty());
      };
    }

    /**
     * What a RUN's mounts read: a context bind mount the context entries under its source, a
     * {@code from=} mount (bind, or a cache seeded from it) that stage's final key or that
     * image's root key. Cache contents themselves are not keyed (as in BuildKit); secret, ssh and
     * tmpfs mounts count only by their options, which are in the instruction text.
     */
    private List<CacheKeys.MountSource> mountSources(RunInstruction run, Map<String, String> sourceKeys) {
      List<CacheKeys.MountSource> sources = new ArrayList<>();
      for (RunMount mount : run.mounts()) {
        boolean readsSource = mount.type() == MountType.BIND || (mount.type() == MountType.CACHE && !mount.from().isEmpty());
        if (!readsSource) {
          continue;
        }
        if (mount.from().isEmpty()) {
          String source = mount.source().isEmpty() ? "." : mount.source();
          sources.add(new CacheKeys.MountSource(mount.target(), "context", context.select(List.of(source))));
        } else {
          String key = sourceKey(sourceKeys, Dependency.Kind.MOUNT_FROM, mount.from(), run);
          sources.add(new CacheKeys.MountSource(mount.target(), key, List.of()));
        }
      }
      return sources;
    }

    private static String sourceKey(
        Map<String, String> sourceKeys, Dependency.Kind kind, String reference, Instruction instruction) {
      String key = sourceKeys.get(sourceKeyName(kind, reference));
      if (key == null) {
        // the graph (or imageTriggers) resolved every --from / from= of a running stage; reaching here is a bug
        throw new IllegalStateException(
            "no dependency for " + instruction.name() + " from " + reference + " at line " + instruction.line());
      }
      return key;
    }

    private static String sourceKeyName(Dependency.Kind kind, String reference) {
      return kind + " " + reference;
    }

    /**
     * The keys of the stages and images the stage's instructions (and its base image's triggers)
     * copy or mount from, by edge kind and reference as written.
     */
    private Map<String, String> sourceKeys(
        dev.stagefarm.dockerfile.graph.PlannedStage stage, List<Dependency> triggerEdges) throws PlanningException {
      Map<String, String> keys = new HashMap<>();
      List<Dependency> edges = new ArrayList<>(stage.dependencies());
      edges.addAll(triggerEdges);
      for (Dependency dependency : edges) {
        if (dependency.kind() == Dependency.Kind.BASE) {
          continue;
        }
        String key =
            dependency.isStage()
                ? outcomes.get(dependency.stageIndex()).finalKey()
                : CacheKeys.root(Optional.of(resolve(dependency.reference()).manifestDigest()), platformText);
        keys.put(sourceKeyName(dependency.kind(), dependency.reference()), key);
      }
      return keys;
    }

    /**
     * The ONBUILD triggers of a stage's base image, parsed, and the edges their {@code COPY
     * --from} / {@code RUN --mount from=} make; those edges become task inputs of the stage. A
     * trigger may only use a stage this build runs before the stage (the graph was pruned without
     * seeing the image's triggers).
     */
    private ImageTriggers imageTriggers(
        dev.stagefarm.dockerfile.graph.BuildPlan graph,
        dev.stagefarm.dockerfile.graph.PlannedStage stage,
        String imageReference,
        ImageState image,
        Map<String, List<String>> stageInputs,
        Map<String, ImageState> imageInputs)
        throws PlanningException {
      int line = stage.stage().origin().line();
      List<Instruction> instructions = new ArrayList<>();
      List<Dependency> edges = new ArrayList<>();
      for (String expression : onBuild(image)) {
        Instruction trigger = OnbuildInstruction.parseTrigger(expression, line);
        instructions.add(trigger);
        for (Dependency edge : triggerEdges(graph, trigger, line)) {
          if (!edge.isStage()) {
            imageInputs.put(edge.reference(), resolve(edge.reference()).state());
          } else if (edge.stageIndex() < stage.index() && outcomes.containsKey(edge.stageIndex())) {
            LinkedHashSet<String> names =
                new LinkedHashSet<>(stageInputs.getOrDefault(outcomes.get(edge.stageIndex()).id(), List.of()));
            names.add(edge.reference());
            stageInputs.put(outcomes.get(edge.stageIndex()).id(), List.copyOf(names));
          } else {
            throw new DockerfileException(
                line,
                "the ONBUILD trigger \"" + expression + "\" of base image " + imageReference + " uses stage \""
                    + edge.reference() + "\", which this build does not build before stage \""
                    + stage.displayName() + "\" (stagefarm plans a base image's triggers only with stages"
                    + " the target already needs)");
          }
          edges.add(edge);
        }
      }
      return new ImageTriggers(instructions, edges);
    }

    /** The stages or images a trigger copies or mounts from, resolved as the stage graph does. */
    private static List<Dependency> triggerEdges(
        dev.stagefarm.dockerfile.graph.BuildPlan graph, Instruction trigger, int line) {
      List<Dependency> edges = new ArrayList<>();
      if (trigger instanceof CopyInstruction copy && copy.hasFrom()) {
        edges.add(edge(graph, Dependency.Kind.COPY_FROM, copy.from(), copy.from().matches("[0-9]+"), line));
      } else if (trigger instanceof RunInstruction run) {
        for (RunMount mount : run.mounts()) {
          if (!mount.from().isEmpty()) {
            edges.add(edge(graph, Dependency.Kind.MOUNT_FROM, mount.from(), false, line));
          }
        }
      }
      return edges;
    }

    private static Dependency edge(
        dev.stagefarm.dockerfile.graph.BuildPlan graph, Dependency.Kind kind, String reference, boolean byIndex, int line) {
      for (dev.stagefarm.dockerfile.graph.PlannedStage candidate : graph.stages()) {
        boolean named = byIndex ? Integer.toString(candidate.index()).equals(reference) : candidate.stage().isNamed(reference);
        if (named) {
          return new Dependency(kind, candidate.index(), reference, line);
        }
      }
      if (byIndex) {
        throw new DockerfileException(line, "invalid stage index " + reference);
      }
      return new Dependency(kind, -1, reference, line);
    }

    /** Runs a step for a base image's trigger, reporting its errors at the stage's FROM line. */
    private <T> T atLine(int line, java.util.function.Supplier<T> step) {
      try {
        return step.get();
      } catch (DockerfileException e) {
        throw new DockerfileException(line, "ONBUILD trigger of the base image: " + e.problem(), e);
      }
    }

    private List<ContextEntry> selectContext(List<String> sources, Instruction instruction) {
      List<ContextEntry> all = new ArrayList<>();
      for (String source : sources) {
        List<ContextEntry> selected = context.select(List.of(source));
        if (selected.isEmpty()) {
          throw new DockerfileException(
              instruction.line(),
              instruction.name() + " failed: \"" + source + "\" not found in the build context");
        }
        all.addAll(selected);
      }
      return all.stream().distinct().sorted((a, b) -> a.getPath().compareTo(b.getPath())).toList();
    }

    private static boolean isRemote(String source) {
      return source.contains("://") || source.startsWith("git@");
    }

    private BaseImageResolver.ResolvedImage resolve(String reference) throws PlanningException {
      BaseImageResolver.ResolvedImage known = resolved.get(reference);
      if (known == null) {
        known = images.resolve(reference, platformText);
        resolved.put(reference, known);
      }
      return known;
    }

    private ImageState scratchState() {
      dev.stagefarm.oci.Platform platform = dev.stagefarm.oci.Platform.parse(platformText);
      return ImageState.newBuilder()
          .setConfigJson(com.google.protobuf.ByteString.copyFrom(ImageJson.writeConfig(ImageConfig.scratch(platform))))
          .setOrigin("scratch")
          .build();
    }

    /** Every key's record, fetched concurrently (one GET each): a long stage costs one round trip. */
    private List<Optional<CacheRecord>> fetchRecords(List<String> keys) {
      List<Optional<CacheRecord>> records = new ArrayList<>();
      try (var lookups = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
        List<java.util.concurrent.Future<Optional<CacheRecord>>> pending = new ArrayList<>();
        for (String key : keys) {
          pending.add(lookups.submit(() -> store.cacheRecord(key)));
        }
        for (java.util.concurrent.Future<Optional<CacheRecord>> lookup : pending) {
          records.add(lookup.get());
        }
      } catch (java.util.concurrent.ExecutionException e) {
        return misses(keys); // a cache we cannot read is a miss, not a failure
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return misses(keys);
      }
      return records;
    }

    private static List<Optional<CacheRecord>> misses(List<String> keys) {
      List<Optional<CacheRecord>> none = new ArrayList<>();
      keys.forEach(k -> none.add(Optional.empty()));
      return none;
    }

    /**
     * The stage's result from its cache records, when its base is known and every key hit. The
     * origin is the worker's {@code stage:<name>}: a stage result, whose ONBUILD triggers ran.
     */
    private Optional<ImageState> cachedResult(
        Optional<ImageState> base, List<Optional<CacheRecord>> records, String origin) {
      if (base.isEmpty() || request.getNoCache()) {
        return Optional.empty();
      }
      ImageState.Builder result = base.get().toBuilder().setOrigin(origin);
      for (Optional<CacheRecord> record : records) {
        if (record.isEmpty()) {
          return Optional.empty();
        }
        if (record.get().hasLayer()) {
          result.addLayers(record.get().getLayer());
        }
        result.setConfigJson(record.get().getConfigJson());
      }
      return Optional.of(result.build());
    }
  }

  /** A base image's ONBUILD triggers and the edges they add; see {@code Planning.imageTriggers}. */
  private record ImageTriggers(List<Instruction> instructions, List<Dependency> edges) {
    static final ImageTriggers NONE = new ImageTriggers(List.of(), List.of());
  }

  private static List<String> onBuild(ImageState state) {
    if (state.getConfigJson().isEmpty()) {
      return List.of();
    }
    return ImageJson.readConfig(state.getConfigJson().toByteArray()).config().onBuild();
  }

  /**
   * Whether an ADD downloads a URL it cannot verify: without {@code --checksum} the remote
   * content may change under the same URL, and the coordinator cannot fingerprint it.
   */
  static boolean unverifiedDownload(AddInstruction add) {
    return add.checksum().isEmpty()
        && add.files().sourcePaths().stream().anyMatch(p -> p.startsWith("http://") || p.startsWith("https://"));
  }

  private static List<String> env(ImageState state) {
    if (state.getConfigJson().isEmpty()) {
      return List.of();
    }
    List<String> env = ImageJson.readConfig(state.getConfigJson().toByteArray()).config().env();
    return env == null ? List.of() : env;
  }

  private static Map<String, String> withoutNulls(Map<String, String> map) {
    Map<String, String> copy = new LinkedHashMap<>();
    map.forEach((k, v) -> copy.put(k, v == null ? "" : v));
    return copy;
  }
}
