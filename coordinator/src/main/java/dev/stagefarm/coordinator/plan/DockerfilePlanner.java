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

      StageScope scope = graph.scopeFor(index, baseEnv, inheritedArgs);
      List<String> keys = new ArrayList<>();
      List<dev.stagefarm.proto.v1.Instruction> summaries = new ArrayList<>();
      String parent = root;
      for (Instruction instruction : stage.instructions()) {
        Map<String, String> argsInScope = Map.copyOf(withoutNulls(scope.argValues()));
        Instruction expanded = scope.apply(instruction);
        parent = CacheKeys.next(parent, keyed(graph, stage, expanded, argsInScope));
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
      Optional<ImageState> cached = cachedResult(cachedBase, records, "stage:" + stage.displayName());
      outcomes.put(
          index,
          new StageOutcome(id, parent, scope.imageEnv(), Map.copyOf(withoutNulls(scope.argValues())), cached));
      return new PlannedStage(
          id, name, index, base, baseStageId, stageInputs, imageInputs, summaries, parent, cached);
    }

    /** Reduces an expanded instruction to what its cache key depends on. */
    private KeyedInstruction keyed(
        dev.stagefarm.dockerfile.graph.BuildPlan graph,
        dev.stagefarm.dockerfile.graph.PlannedStage stage,
        Instruction expanded,
        Map<String, String> argsInScope)
        throws PlanningException {
      // the origin (line numbers, unexpanded text) is not part of the key: moving an
      // instruction without changing it keeps its cache
      String text = expanded.name() + " " + expanded.toString().replace(expanded.origin().toString(), "");
      return switch (expanded) {
        // ARG values are environment variables of a RUN: all in scope count
        case RunInstruction run -> new KeyedInstruction(text, argsInScope, List.of(), Optional.empty());
        case CopyInstruction copy when copy.hasFrom() ->
            new KeyedInstruction(text, Map.of(), List.of(), Optional.of(fromKey(graph, stage, copy)));
        case CopyInstruction copy ->
            new KeyedInstruction(text, Map.of(), selectContext(copy.files().sourcePaths(), copy), Optional.empty());
        case AddInstruction add ->
            new KeyedInstruction(
                text,
                Map.of(),
                selectContext(add.files().sourcePaths().stream().filter(p -> !isRemote(p)).toList(), add),
                Optional.empty());
        default -> new KeyedInstruction(text, Map.of(), List.of(), Optional.empty());
      };
    }

    private String fromKey(
        dev.stagefarm.dockerfile.graph.BuildPlan graph,
        dev.stagefarm.dockerfile.graph.PlannedStage stage,
        CopyInstruction copy)
        throws PlanningException {
      for (Dependency dependency : stage.dependencies()) {
        if (dependency.kind() == Dependency.Kind.COPY_FROM && dependency.line() == copy.line()) {
          if (dependency.isStage()) {
            return outcomes.get(dependency.stageIndex()).finalKey();
          }
          BaseImageResolver.ResolvedImage image = resolve(dependency.reference());
          return CacheKeys.root(Optional.of(image.manifestDigest()), platformText);
        }
      }
      // the graph resolved --from for every COPY of a running stage; reaching here is a bug
      throw new IllegalStateException("no dependency for COPY --from=" + copy.from() + " at line " + copy.line());
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
