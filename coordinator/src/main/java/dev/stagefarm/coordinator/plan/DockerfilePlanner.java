package dev.stagefarm.coordinator.plan;

import dev.stagefarm.coordinator.compile.ContextSelector;
import dev.stagefarm.coordinator.compile.InputResolver;
import dev.stagefarm.coordinator.compile.StageCompiler;
import dev.stagefarm.coordinator.content.CachedOp;
import dev.stagefarm.coordinator.content.LayerRef;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.CacheRecords;
import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.coordinator.port.PinnedImage;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.BuildOptions;
import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.dockerfile.graph.StageGraph;
import dev.stagefarm.dockerfile.instructions.DockerfileModel;
import dev.stagefarm.dockerfile.instructions.InstructionParser;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageConfig;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheKeys;
import dev.stagefarm.program.ConfigFold;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Plans a build: parses the Dockerfile, prunes the stage graph to the target, pins base images,
 * compiles every stage into a program ({@link StageCompiler}), keys its ops ({@link CacheKeys})
 * and completes the stages whose every op is cached from their cache records.
 */
public final class DockerfilePlanner implements BuildPlanner {
  private final ContentStore content;
  private final CacheRecords cache;
  private final BaseImageResolver images;
  private final dev.stagefarm.dockerfile.graph.Platform buildPlatform;
  private final ContextManifests.Limits manifestLimits;
  /** Cache lookups in flight per planning run. */
  private final int lookupLimit;

  /** A planner whose builds run on this machine's platform (see {@link #hostPlatform()}). */
  public DockerfilePlanner(ContentStore content, CacheRecords cache, BaseImageResolver images) {
    this(content, cache, images, hostPlatform());
  }

  /**
   * @param buildPlatform the platform the farm's workers run on: BuildKit's BUILDPLATFORM,
   *     BUILDOS and BUILDARCH (TARGET* follow the requested platform)
   */
  public DockerfilePlanner(ContentStore content, CacheRecords cache, BaseImageResolver images,
      dev.stagefarm.dockerfile.graph.Platform buildPlatform) {
    this(content, cache, images, buildPlatform, ContextManifests.Limits.DEFAULT);
  }

  /** @param manifestLimits the limits a context manifest is read within */
  public DockerfilePlanner(ContentStore content, CacheRecords cache, BaseImageResolver images,
      dev.stagefarm.dockerfile.graph.Platform buildPlatform, ContextManifests.Limits manifestLimits) {
    this(content, cache, images, buildPlatform, manifestLimits, CacheLookups.DEFAULT_LIMIT);
  }

  /** @param lookupLimit how many cache records one planning run asks the store for at once */
  DockerfilePlanner(ContentStore content, CacheRecords cache, BaseImageResolver images,
      dev.stagefarm.dockerfile.graph.Platform buildPlatform, ContextManifests.Limits manifestLimits, int lookupLimit) {
    this.content = content;
    this.cache = cache;
    this.images = images;
    this.buildPlatform = buildPlatform;
    this.manifestLimits = manifestLimits;
    this.lookupLimit = lookupLimit;
  }

  @Override
  public BuildPlanner withImportedCache(CacheRecords imported) {
    CacheRecords farm = cache;
    return new DockerfilePlanner(content, key -> {
      Optional<CachedOp> hit = farm.find(key);
      return hit.isPresent() ? hit : imported.find(key);
    }, images, buildPlatform, manifestLimits, lookupLimit);
  }

  /**
   * The platform of this JVM's machine in OCI terms ({@code linux/amd64}, {@code linux/arm64}):
   * until workers report theirs, the farm's workers are taken to run on the coordinator's.
   */
  public static dev.stagefarm.dockerfile.graph.Platform hostPlatform() {
    dev.stagefarm.oci.Platform host = dev.stagefarm.program.TaskRouting.hostPlatform();
    return new dev.stagefarm.dockerfile.graph.Platform(host.os(), host.architecture(), host.variant());
  }

  @Override
  public BuildPlan plan(String buildId, SubmitBuildRequest request) throws PlanningException {
    return plan(buildId, request, (ContextManifest) null);
  }

  /** @param manifest the request's context manifest, already read; null: read it from the store */
  @Override
  public BuildPlan plan(String buildId, SubmitBuildRequest request, ContextManifest manifest) throws PlanningException {
    return plan(buildId, request, manifest, null);
  }

  @Override
  public BuildPlan replan(String buildId, SubmitBuildRequest request, Map<String, PinnedImage> pins)
      throws PlanningException {
    return plan(buildId, request, null, Map.copyOf(pins));
  }

  private BuildPlan plan(String buildId, SubmitBuildRequest request, ContextManifest manifest,
      Map<String, PinnedImage> pins) throws PlanningException {
    String fileName = request.getDockerfileName().isEmpty() ? "Dockerfile" : request.getDockerfileName();
    try {
      return new Planning(buildId, request, manifest, pins).plan();
    } catch (DockerfileException e) {
      throw new PlanningException(e.describe(fileName), e);
    } catch (UnresolvedImage e) {
      throw e.getCause();
    } catch (IllegalArgumentException e) {
      throw new PlanningException(fileName + ": " + e.getMessage(), e);
    }
  }

  /** What planning learned about a stage, for the stages built on or reading from it. */
  private record StageOutcome(String id, CacheKey finalKey, ImageConfig config, Map<String, String> args,
      Platform platform) {}

  /**
   * A compiled stage whose cache records are still being fetched: every stage's lookups start as
   * soon as its keys are known, so a build's records come back in one concurrent round.
   *
   * @param cachedBase the base's result when the stage starts from an image or scratch
   * @param baseIndex the stage it starts from, whose cached result (if any) is its base
   * @param records its op records under way; empty when the stage skips the cache ({@code --no-cache-filter})
   */
  private record CompiledStage(PlannedStage stage, Optional<StageResult> cachedBase, Optional<Integer> baseIndex,
      Optional<CacheLookups.Pending> records) {}

  private static final String DOCKER_IMAGE = "docker-image://";

  /** One planning run. */
  private final class Planning {
    final String buildId;
    final SubmitBuildRequest request;
    final Map<String, BaseImageResolver.ResolvedImage> resolved = new LinkedHashMap<>();
    final Map<Integer, StageOutcome> outcomes = new HashMap<>();
    /** The stages' cache-record lookups, concurrent within the planner's limit. */
    final CacheLookups lookups = new CacheLookups(cache, lookupLimit);
    /** Each stage name's first stage, lower-cased (names match case-insensitively): no scan per reference. */
    final Map<String, Integer> stagesByName = new HashMap<>();
    /**
     * The configs of the bases read so far, by the base's result (the one object per pinned image or
     * platform's scratch): a base's JSON is parsed once per plan, not for every stage on it and again
     * for each stage's cached result (16 parses of one config in a warm 8-way fan-out: bench/README,
     * "Session 11").
     */
    final Map<StageResult, ImageConfig> configs = new java.util.IdentityHashMap<>();
    /** The empty image per platform (its config JSON written once, not per stage). */
    final Map<Platform, StageResult> scratchStates = new HashMap<>();
    /** {@code --build-context NAME=docker-image://REF}: NAME → REF; NAME=oci-layout://sha256:… as it is. */
    final Map<String, String> imageContexts = new HashMap<>();
    /** {@code --build-context NAME=DIR}: the names. */
    java.util.Set<String> dirContexts = java.util.Set.of();
    final Optional<Instant> sourceDateEpoch;
    final ContextManifest manifest;
    /** On a resume: the images the first plan pinned, the only ones this plan may use. */
    final Map<String, PinnedImage> pins;
    /** The build's target platform (BuildKit's TARGETPLATFORM). */
    Platform targetPlatform;
    /** The platform of the stage being planned: its own, its base stage's, or the target's. */
    Platform platform;

    Planning(String buildId, SubmitBuildRequest request, ContextManifest manifest, Map<String, PinnedImage> pins) {
      this.buildId = buildId;
      this.request = request;
      this.manifest = manifest;
      this.pins = pins;
      this.sourceDateEpoch = sourceDateEpoch(request.getBuildArgsMap().getOrDefault("SOURCE_DATE_EPOCH", ""));
    }

    /** The build's {@code --network}: the network of RUNs that do not name one. */
    private static dev.stagefarm.program.Action.Network buildNetwork(String network) throws PlanningException {
      return switch (network) {
        case "", "default" -> dev.stagefarm.program.Action.Network.DEFAULT;
        case "none" -> dev.stagefarm.program.Action.Network.NONE;
        case "host" -> dev.stagefarm.program.Action.Network.HOST;
        default -> throw new PlanningException("unknown network mode \"" + network + "\" (default, none or host)");
      };
    }

    /** The build's {@code --add-host}, {@code --shm-size}, {@code --ulimit}: client input, checked here. */
    private static dev.stagefarm.program.RunOptions runOptions(SubmitBuildRequest request) throws PlanningException {
      try {
        return dev.stagefarm.program.ProgramCodec.runOptions(
            request.getExtraHostsList(), request.getShmSizeBytes(), request.getUlimitsList());
      } catch (IllegalArgumentException e) {
        throw new PlanningException(e.getMessage(), e);
      }
    }

    BuildPlan plan() throws PlanningException {
      DockerfileModel model = InstructionParser.parse(DockerfileParser.parse(request.getDockerfile().toByteArray()));
      BuildOptions options =
          new BuildOptions(
              request.getTarget().isEmpty() ? null : request.getTarget(),
              request.getBuildArgsMap(),
              requestedPlatform(),
              buildPlatform);
      dev.stagefarm.dockerfile.graph.BuildPlan graph = StageGraph.plan(model, options);
      for (dev.stagefarm.dockerfile.graph.PlannedStage stage : graph.stages()) {
        stage.name().ifPresent(name -> stagesByName.putIfAbsent(name.toLowerCase(java.util.Locale.ROOT), stage.index()));
      }
      dev.stagefarm.dockerfile.graph.Platform target = graph.targetPlatform();
      targetPlatform = routed(new Platform(target.os(), target.architecture(), target.variant()));
      platform = targetPlatform;
      Map<String, ContextSelector> dirContexts = namedContexts(graph);
      StageCompiler compiler = new StageCompiler(ContextSelector.of(contextManifest()), buildId, platform, sourceDateEpoch,
          buildNetwork(request.getNetwork()), runOptions(request), dirContexts);

      List<CompiledStage> compiled = new ArrayList<>();
      try (lookups) {
        for (dev.stagefarm.dockerfile.graph.PlannedStage stage : graph.runStages()) {
          compiled.add(planStage(graph, stage, compiler));
        }
      }
      List<PlannedStage> stages = withCachedResults(compiled);
      Map<String, PinnedImage> pinned = new LinkedHashMap<>();
      resolved.forEach((reference, image) ->
          pinned.put(reference, new PinnedImage(image.pinnedReference(), image.manifestDigest(), image.image())));
      return new BuildPlan(buildId, stages, outcomes.get(graph.targetIndex()).id(), pinned);
    }

    private static Platform routed(Platform platform) throws PlanningException {
      if (!dev.stagefarm.program.TaskRouting.routed(platform)) {
        // no worker could ever take its tasks: say so now instead of after the queue lease
        throw new PlanningException("platform " + platform + ": the farm builds for "
            + dev.stagefarm.program.TaskRouting.supported());
      }
      return dev.stagefarm.program.TaskRouting.normalize(platform);
    }

    /**
     * The platform a stage builds for, as BuildKit's dispatcher decides it: a stage built on another
     * stage has that stage's; else its own {@code FROM --platform} (e.g. {@code $BUILDPLATFORM}, with
     * the global ARGs expanded); else the build's target platform. The TARGET and BUILD args stay the
     * build's either way: that is what lets a stage on the build platform cross-compile.
     */
    private Platform stagePlatform(dev.stagefarm.dockerfile.graph.PlannedStage stage) throws PlanningException {
      if (stage.base() instanceof dev.stagefarm.dockerfile.graph.StageBase.StageRef ref) {
        return outcomes.get(ref.index()).platform();
      }
      if (stage.platform() == null) {
        return targetPlatform;
      }
      dev.stagefarm.dockerfile.graph.Platform own = dev.stagefarm.dockerfile.graph.Platform.parse(stage.platform());
      try {
        return routed(new Platform(own.os(), own.architecture(), own.variant()));
      } catch (PlanningException e) {
        throw new PlanningException("stage " + stage.displayName() + ": FROM --platform=" + stage.stage().platform()
            + ": " + e.getMessage(), e);
      }
    }

    /**
     * {@code --build-context}: images become aliases ({@link #resolve}), directories selectors for
     * {@code COPY --from}. A name that is also a stage is refused: BuildKit would replace the stage.
     */
    private Map<String, ContextSelector> namedContexts(dev.stagefarm.dockerfile.graph.BuildPlan graph)
        throws PlanningException {
      Map<String, ContextSelector> dirs = new HashMap<>();
      for (var named : new java.util.TreeMap<>(request.getNamedContextsMap()).entrySet()) {
        String name = named.getKey();
        if (graph.stages().stream().anyMatch(s -> s.stage().isNamed(name))) {
          throw new PlanningException("--build-context " + name + ": the Dockerfile has a stage of that name;"
              + " replacing a stage with a named context is not supported by stagefarm");
        }
        String value = named.getValue();
        if (value.startsWith(DOCKER_IMAGE)) {
          imageContexts.put(name, value.substring(DOCKER_IMAGE.length()));
        } else if (value.startsWith(OciLayoutImages.SCHEME)) {
          imageContexts.put(name, value); // resolved from the uploaded blobs, not a registry
        } else {
          dirs.put(name, ContextSelector.of(readManifest(value, "--build-context " + name)));
        }
      }
      this.dirContexts = dirs.keySet();
      return dirs;
    }

    private dev.stagefarm.dockerfile.graph.Platform requestedPlatform() {
      var requested = request.getPlatform();
      if (requested.getOs().isEmpty() && requested.getArchitecture().isEmpty()) {
        return null;
      }
      return new dev.stagefarm.dockerfile.graph.Platform(
          requested.getOs(), requested.getArchitecture(), requested.getVariant());
    }

    private ContextManifest contextManifest() throws PlanningException {
      if (manifest != null) {
        return manifest;
      }
      if (request.getContextManifest().isEmpty()) {
        return ContextManifest.getDefaultInstance();
      }
      return readManifest(request.getContextManifest(), "build context");
    }

    private ContextManifest readManifest(String digestText, String what) throws PlanningException {
      Digest digest;
      try {
        digest = Digest.parse(digestText);
      } catch (IllegalArgumentException e) {
        throw new PlanningException("invalid " + what + " manifest digest: " + e.getMessage(), e);
      }
      try {
        return ContextManifests.read(content, digest, manifestLimits);
      } catch (IllegalArgumentException e) {
        throw new PlanningException(e.getMessage(), e);
      } catch (IOException e) {
        throw new PlanningException("reading the " + what + " manifest " + digestText + " failed: " + e.getMessage(), e);
      }
    }

    private CompiledStage planStage(
        dev.stagefarm.dockerfile.graph.BuildPlan graph, dev.stagefarm.dockerfile.graph.PlannedStage stage,
        StageCompiler compiler) throws PlanningException {
      int index = stage.index();
      String id = stage.name().map(n -> index + "-" + n).orElse(Integer.toString(index));
      String name = stage.name().orElse(Integer.toString(index));
      platform = stagePlatform(stage);

      Optional<StageResult> base = Optional.empty();
      Optional<String> baseStageId = Optional.empty();
      Optional<Integer> baseIndex = Optional.empty();
      Optional<StageResult> cachedBase = Optional.empty();
      StageCompiler.Start start;
      switch (stage.base()) {
        case dev.stagefarm.dockerfile.graph.StageBase.Image image -> {
          BaseImageResolver.ResolvedImage pinned = resolve(image.reference());
          base = Optional.of(pinned.image());
          cachedBase = base;
          start = new StageCompiler.Start(new ProgramBase.Image(pinned.pinnedReference()), imageRoot(pinned),
              config(pinned.image()), Map.of());
        }
        case dev.stagefarm.dockerfile.graph.StageBase.StageRef ref -> {
          StageOutcome from = outcomes.get(ref.index());
          baseStageId = Optional.of(from.id());
          baseIndex = Optional.of(ref.index());
          start = new StageCompiler.Start(new ProgramBase.Stage(from.id()), from.finalKey(), from.config(), from.args());
        }
        case dev.stagefarm.dockerfile.graph.StageBase.Scratch scratch -> {
          StageResult empty = scratchState();
          base = Optional.of(empty);
          cachedBase = base;
          start = new StageCompiler.Start(new ProgramBase.Scratch(),
              CacheKeys.scratchRoot(platform, sourceDateEpoch), ImageConfig.scratch(platform), Map.of());
        }
      }

      Inputs inputs = new Inputs(graph, index);
      StageCompiler.Compiled compiled = compiler.forPlatform(platform).compile(graph, stage, start, inputs);
      StageProgram program = compiled.program();
      List<CacheKey> keys = CacheKeys.chain(program);
      CacheKey finalKey = keys.isEmpty() ? program.rootKey() : keys.getLast();
      boolean skipsCache = NoCacheFilter.skipsCache(request, stage.name());
      Optional<CacheLookups.Pending> records = skipsCache ? Optional.empty() : Optional.of(lookups.stage(name, keys));
      outcomes.put(index, new StageOutcome(id, finalKey, compiled.config(), compiled.args(), platform));

      Map<String, String> stageInputs = new LinkedHashMap<>();
      Map<String, StageResult> imageInputs = new LinkedHashMap<>();
      for (ProgramInput input : program.inputs()) {
        if (inputs.stages.containsKey(input.id())) {
          stageInputs.put(input.id(), inputs.stages.get(input.id()));
        } else {
          imageInputs.put(input.id(), inputs.images.get(input.id()));
        }
      }
      return new CompiledStage(
          new PlannedStage(id, name, index, program, keys, base, baseStageId, stageInputs, imageInputs, Optional.empty()),
          cachedBase, baseIndex, records);
    }

    /**
     * The stages with their results from the cache records, in build order: a stage built on
     * another is complete from the cache only when that stage is.
     */
    private List<PlannedStage> withCachedResults(List<CompiledStage> compiled) {
      Map<Integer, Optional<StageResult>> cachedByIndex = new HashMap<>();
      List<PlannedStage> stages = new ArrayList<>();
      for (CompiledStage stage : compiled) {
        PlannedStage planned = stage.stage();
        Optional<StageResult> base = stage.baseIndex().map(cachedByIndex::get).orElse(stage.cachedBase());
        // every stage's records are awaited (a store that cannot be read fails the plan, whatever the base)
        Optional<List<CachedOp>> records = stage.records().flatMap(CacheLookups.Pending::get);
        Optional<StageResult> cached = base == null ? Optional.empty() : cachedResult(base, planned.program(), records);
        cachedByIndex.put(planned.index(), cached);
        stages.add(new PlannedStage(planned.id(), planned.name(), planned.index(), planned.program(), planned.opKeys(),
            planned.base(), planned.baseStageId(), planned.stageInputs(), planned.imageInputs(), cached));
      }
      return stages;
    }

    /**
     * Resolves {@code COPY --from} and {@code RUN --mount from=} as the stage graph does: a stage
     * index (COPY only) or name, else an image. A base image's ONBUILD trigger may only name a
     * stage this build runs before the stage: the graph was pruned without seeing the image's triggers.
     */
    private final class Inputs implements InputResolver {
      final dev.stagefarm.dockerfile.graph.BuildPlan graph;
      final int current;
      final Map<String, String> stages = new HashMap<>();
      final Map<String, StageResult> images = new HashMap<>();

      Inputs(dev.stagefarm.dockerfile.graph.BuildPlan graph, int current) {
        this.graph = graph;
        this.current = current;
      }

      @Override
      public ProgramInput resolve(Dependency.Kind kind, String reference, int line) {
        Optional<Integer> stageIndex = stageIndex(kind, reference, line);
        if (stageIndex.isPresent()) {
          StageOutcome outcome = stageIndex.get() < current ? outcomes.get(stageIndex.get()) : null;
          if (outcome == null) {
            throw new DockerfileException(line, "stage \"" + reference + "\" is not built before stage \""
                + graph.stage(current).displayName() + "\" in this build (stagefarm plans a base image's ONBUILD"
                + " triggers only with stages the target already needs)");
          }
          String id = ProgramInput.stageId(outcome.id());
          stages.put(id, outcome.id());
          return new ProgramInput(id, outcome.finalKey(), reference);
        }
        BaseImageResolver.ResolvedImage pinned;
        try {
          pinned = Planning.this.resolve(reference);
        } catch (PlanningException e) {
          throw new UnresolvedImage(e);
        }
        String id = ProgramInput.imageId(pinned.pinnedReference());
        images.put(id, pinned.image());
        return new ProgramInput(id, imageRoot(pinned), reference);
      }

      private Optional<Integer> stageIndex(Dependency.Kind kind, String reference, int line) {
        if (kind == Dependency.Kind.COPY_FROM && reference.matches("[+-]?[0-9]+")) {
          try {
            int index = Integer.parseInt(reference);
            if (index >= 0 && index < graph.stages().size()) {
              return Optional.of(index);
            }
          } catch (NumberFormatException e) {
            // out of int range: invalid like any other index
          }
          throw new DockerfileException(line, "invalid stage index " + reference);
        }
        Integer named = stagesByName.get(reference.toLowerCase(java.util.Locale.ROOT));
        if (named != null && graph.stage(named).stage().isNamed(reference)) {
          return Optional.of(named);
        }
        // no stage of that name (an image), or a name only Unicode case folding matches
        return named == null && reference.chars().allMatch(c -> c < 128) ? Optional.empty()
            : graph.stages().stream()
                .filter(s -> s.stage().isNamed(reference))
                .map(dev.stagefarm.dockerfile.graph.PlannedStage::index)
                .findFirst();
      }
    }

    private CacheKey imageRoot(BaseImageResolver.ResolvedImage pinned) {
      return CacheKeys.imageRoot(pinned.manifestDigest(), platform, sourceDateEpoch);
    }

    private BaseImageResolver.ResolvedImage resolve(String named) throws PlanningException {
      if (dirContexts.contains(named)) {
        throw new PlanningException("--build-context " + named + " is a local directory: stagefarm reads one with"
            + " COPY --from=" + named + " only (not FROM or RUN --mount from=)");
      }
      String reference = imageContexts.getOrDefault(named, named); // --build-context NAME=docker-image://REF
      String key = pinKey(reference);
      BaseImageResolver.ResolvedImage known = resolved.get(key);
      if (known == null) {
        if (pins != null) {
          known = pinned(reference, key);
        } else if (reference.startsWith(OciLayoutImages.SCHEME)) {
          known = OciLayoutImages.resolve(content, reference, platform);
        } else {
          known = images.resolve(reference, platform, ClientRegistryCredentials.of(request));
        }
        resolved.put(key, known);
      }
      return known;
    }

    /**
     * How the journal keys a pinned image: the reference as written for the target platform (as
     * before stages had platforms), {@code reference platform=os/arch} for a stage on another one.
     */
    private String pinKey(String reference) {
      return platform.equals(targetPlatform) ? reference : reference + " platform=" + platform;
    }

    private BaseImageResolver.ResolvedImage pinned(String reference, String key) throws PlanningException {
      PinnedImage pin = pins.get(key);
      if (pin == null) {
        // the first plan never resolved it: re-resolving a tag now could mix two bases in one image
        throw new PlanningException("base image " + reference + " has no pinned digest in the build's record;"
            + " it is not resolved again on resume");
      }
      return new BaseImageResolver.ResolvedImage(pin.pinnedReference(), pin.manifestDigest(), pin.image());
    }

    private ImageConfig config(StageResult image) {
      return image.hasConfig() ? configs.computeIfAbsent(image, i -> ImageJson.readConfig(i.configJson()))
          : ImageConfig.scratch(platform);
    }

    private StageResult scratchState() {
      return scratchStates.computeIfAbsent(platform,
          p -> new StageResult(List.of(), ImageJson.writeConfig(ImageConfig.scratch(p)), "scratch"));
    }

    /**
     * The stage's result from its cache records, when its base is known and every op hit: the
     * layers from the records, the config folded from the base's over the ops, as the worker
     * would have made them. The origin is the worker's {@code stage:<name>}.
     */
    private Optional<StageResult> cachedResult(
        Optional<StageResult> base, StageProgram program, Optional<List<CachedOp>> hits) {
      if (base.isEmpty() || hits.isEmpty() || hits.get().size() != program.ops().size()) {
        return Optional.empty();
      }
      List<CachedOp> records = hits.get();
      List<LayerRef> layers = new ArrayList<>(base.get().layers());
      ImageConfig config = ConfigFold.start(config(base.get()));
      for (int i = 0; i < records.size(); i++) {
        Optional<LayerRef> layer = records.get(i).layer();
        layer.ifPresent(layers::add);
        config = ConfigFold.apply(config, program.ops().get(i), layer.map(LayerRef::diffId), program.sourceDateEpoch());
      }
      return Optional.of(new StageResult(layers, ImageJson.writeConfig(config), "stage:" + program.stageName()));
    }
  }

  /** SOURCE_DATE_EPOCH in seconds; anything else is ignored, as the worker always did. */
  private static Optional<Instant> sourceDateEpoch(String value) {
    try {
      return value.isBlank() ? Optional.empty() : Optional.of(Instant.ofEpochSecond(Long.parseLong(value.strip())));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** A base image that could not be pinned while compiling a stage; carries the user's message. */
  private static final class UnresolvedImage extends RuntimeException {
    UnresolvedImage(PlanningException cause) {
      super(cause);
    }

    @Override
    public synchronized PlanningException getCause() {
      return (PlanningException) super.getCause();
    }
  }
}
