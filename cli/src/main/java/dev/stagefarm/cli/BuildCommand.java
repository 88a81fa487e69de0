package dev.stagefarm.cli;

import dev.stagefarm.cli.build.ClientRegistryAuth;
import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.BuildSession;
import dev.stagefarm.cli.build.BuildMetadata;
import dev.stagefarm.cli.build.BuildxFlags;
import dev.stagefarm.cli.build.CacheFlags;
import dev.stagefarm.cli.build.MultiPlatformBuild;
import dev.stagefarm.cli.build.NamedContexts;
import dev.stagefarm.cli.build.PlatformFlag;
import dev.stagefarm.cli.build.OutputWriter;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.DockerfileCheck;
import dev.stagefarm.cli.build.OutputSpec;
import dev.stagefarm.cli.build.PendingScan;
import dev.stagefarm.cli.build.ProgressView;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.build.StatCache;
import dev.stagefarm.cli.build.TraceWriter;
import dev.stagefarm.cli.farm.Farm;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.cli.farm.FarmSelection;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.Platform;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stagefarm build}: builds a Dockerfile on the farm (docker buildx's flag names). Without
 * {@code --coordinator} it runs an embedded farm in this process.
 */
@Command(
    name = "build",
    mixinStandardHelpOptions = true,
    description = "Build an image from a Dockerfile on the farm (the local background farm unless --coordinator"
        + " is given).")
public final class BuildCommand implements Callable<Integer> {

  /** Largest Dockerfile read from standard input ({@code -f -}); the coordinator's limit. */
  static final int MAX_STDIN_DOCKERFILE = 4 << 20;

  @Parameters(index = "0", paramLabel = "CONTEXT",
      description = "The build context: a directory, a tar archive (.tar, .tar.gz, .tgz), - for a tar archive on"
          + " standard input, or a git repository on this machine (PATH.git or file:///PATH, with #REF[:SUBDIR]).")
  String context;

  /** The context directory: CONTEXT, or where a tarball context was unpacked. */
  private Path contextDir;
  /** Set for a local git context (checked by {@link #checkFlags}). */
  private dev.stagefarm.cli.build.GitContext git;
  /** Set for a tarball or git context: the directory it was unpacked into (deleted at the end). */
  private Path unpacked;

  @Option(names = {"-f", "--file"}, paramLabel = "FILE",
      description = "The Dockerfile (default: CONTEXT/Dockerfile; - reads it from standard input).")
  String file;

  @Option(names = {"-t", "--tag"}, paramLabel = "NAME", description = "Name of the image (repeatable).")
  List<String> tags = new ArrayList<>();

  @Option(names = "--target", paramLabel = "STAGE", description = "The stage to build.")
  String target = "";

  @Option(names = "--build-arg", paramLabel = "K=V", description = "A build-time variable (repeatable).")
  List<String> buildArgs = new ArrayList<>();

  @Option(
      names = "--secret",
      paramLabel = "id=ID[,src=FILE|,env=VAR]",
      description = "A secret for RUN --mount=type=secret (docker buildx syntax: type=file|env, id, src/source, env;"
          + " repeatable). Sent to this build only, never stored in clear.")
  List<String> secrets = new ArrayList<>();

  @Option(names = "--no-cache", description = "Do not use the cache.")
  boolean noCache;

  @Option(names = "--tenant", paramLabel = "NAME", description = "Whose share of the farm's workers the build uses,"
      + " on a farm without authentication (with it, the caller's identity is the tenant). Default: default.")
  String tenant = "";

  @Option(names = "--priority", paramLabel = "N", description = "Stages of a higher priority are released to the"
      + " workers first (running stages are never preempted); at most the tenant's max-priority. Default: 0.")
  int priority;

  @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
      description = "Target platform(s), e.g. linux/arm64 or linux/amd64,linux/arm64 (one build each, written as one"
          + " OCI image index with -o type=oci); default: the farm's. Stages run only on workers that run it.")
  String platform = "";

  @Option(names = {"-o", "--output"}, paramLabel = "type=TYPE[,dest=…][,name=…][,push=true]",
      description = "Where the result goes (repeatable): type=local,dest=DIR (the filesystem), type=tar,dest=FILE|-,"
          + " type=oci|docker,dest=FILE|-, type=image,name=REF[,push=true], type=registry,name=REF; DIR alone is"
          + " type=local, - alone is type=tar to standard output.")
  List<String> outputs = new ArrayList<>();

  @Option(names = "--push", description = "Push the image to the registry of each -t name.")
  boolean push;

  @Option(names = "--progress", paramLabel = "MODE", description = "auto, tty, plain, rawjson or quiet (default: auto).")
  String progress = "auto";

  @Option(names = "--trace", paramLabel = "FILE", description = "Write the build timeline as Chrome trace-event JSON.")
  Path trace;

  @Mixin BuildxFlags buildx;

  @Mixin CacheFlags cacheFlags;

  /** Which farm, and the run served: this process's, or a thin client's in the local farm. */
  @Mixin FarmSelection farmSelection;

  @Override
  public Integer call() throws Exception {
    long started = System.currentTimeMillis();
    PrintStream err = run().err();
    PrintStream stdout = run().out();
    BuildxFlags.ImageOptions imageOptions = buildx.validate();
    List<OutputSpec> outputSpecs = new ArrayList<>();
    for (String output : outputs) {
      outputSpecs.add(OutputSpec.parse(output));
    }
    List<String> names = new ArrayList<>(tags);
    boolean pushes = push;
    for (OutputSpec output : outputSpecs) {
      output.names().stream().filter(n -> !names.contains(n)).forEach(names::add);
      pushes |= output.push();
    }
    checkFlags(outputSpecs, names, pushes);
    // validates --progress before anything starts
    ProgressView view = buildx.quiet ? BuildSession.QUIET : BuildSession.progressView(progress, err, run().liveProgress());
    try {
      contextDir = unpackTarball(); // a tarball context holds the Dockerfile: unpacked first (else a no-op)
      return build(started, err, stdout, view, imageOptions, outputSpecs, names, pushes);
    } finally {
      if (unpacked != null) {
        dev.stagefarm.cli.build.TarContext.deleteTree(unpacked);
      }
    }
  }

  private Integer build(long started, PrintStream err, PrintStream stdout, ProgressView view,
      BuildxFlags.ImageOptions imageOptions, List<OutputSpec> outputSpecs, List<String> names, boolean pushes)
      throws Exception {
    // the Dockerfile is checked before anything loads protobuf or gRPC: a mistake is reported at once
    String dockerfileName = file == null || file.equals("-") ? "Dockerfile" : Path.of(file).getFileName().toString();
    byte[] dockerfileBytes = readDockerfile();
    Map<String, String> args = BuildSession.buildArgs(buildArgs, run()::env);
    DockerfileCheck.check(dockerfileName, dockerfileBytes, target, args, DockerfileCheck.firstPlatform(platform));
    List<Platform> platforms = PlatformFlag.parse(platform);
    if (platforms.size() > 1) {
      MultiPlatformBuild.check(outputSpecs);
      if (cacheFlags.exports()) {
        throw ExitCodes.usage("--cache-to with several --platform values is not supported yet: each platform's"
            + " build would overwrite the others' cache (docs/status.md)");
      }
    }
    SubmitBuildRequest.Builder request =
        SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFrom(dockerfileBytes))
            .setDockerfileName(dockerfileName)
            .setTarget(target)
            .putAllBuildArgs(args)
            .setNoCache(noCache)
            .addAllTags(names)
            .setPlatform(platforms.isEmpty() ? Platform.getDefaultInstance() : platforms.getFirst())
            .putAllLabels(imageOptions.labels())
            .putAllAnnotations(imageOptions.annotations())
            .setNetwork(imageOptions.network())
            .setTenant(tenant)
            .setPriority(priority);
    cacheFlags.addTo(request, run().cwd());
    BuildSession.addSecrets(request, secrets, run()::env, run().cwd());
    buildx.addRunOptions(request);
    NamedContexts namedContexts =
        BuildSession.namedContexts(BuildxFlags.keyValues("--build-context", buildx.buildContexts), run().cwd());
    ClientRegistryAuth.addFromDockerConfig(request, namedContexts.values(), run()::env);
    // several platforms are pushed together as one index once every build has succeeded
    BuildSession.addOutputs(request, outputSpecs, pushes && platforms.size() <= 1);

    // the context's stat cache is the farm home's; a one-shot scans while its farm starts (the scan needs no farm),
    // a build through a running farm inline (its farm is there at once)
    java.util.function.Supplier<StatCache> statCache = () -> unpacked != null ? StatCache.none()
        : StatCache.load(FarmFlags.home().resolve("context-cache"), contextDir);
    PendingScan scanAhead = farmSelection.oneShot ? PendingScan.start(contextDir, statCache) : null;
    try (Farm farm = openFarm(view)) {
      BuildSession session = new BuildSession(new BuildClient(farm), run());
      view.phaseStarted("load build context");
      // unchanged files are not hashed again (stat cache under the farm home)
      ScannedContext scanned = scanAhead != null ? scanAhead.join() : ContextScanner.scan(contextDir, statCache.get());
      BuildClient.UploadResult uploaded = session.client().upload(scanned);
      view.transferred("transferring context", uploaded.uploadedBytes(), uploaded.uploadedBytes());
      view.phaseDone("transferring context: " + uploaded.files() + " files, " + uploaded.uploaded() + " sent ("
          + uploaded.uploadedBytes() + " bytes)");
      request.setContextManifest(scanned.manifestDigest().toString());
      session.addNamedContexts(request, namedContexts);
      if (platforms.size() > 1) {
        MultiPlatformBuild builds = new MultiPlatformBuild(session.client(), platforms, run());
        List<BuildStatus> statuses;
        try (view) {
          statuses = builds.run(request.build(), view);
        }
        builds.requireSucceeded(statuses);
        List<String> written = new ArrayList<>(builds.export(statuses, outputSpecs));
        if (pushes) {
          written.add(builds.push(statuses));
        }
        builds.summarize(statuses, written, stdout,
            (System.currentTimeMillis() - started) / 1000.0);
        return ExitCodes.OK;
      }
      view.phaseStarted("submit and plan");
      BuildStatus submitted = session.client().submit(request.build());
      view.phaseDone("build " + submitted.getBuildId());
      TraceWriter traceWriter = trace == null ? null : new TraceWriter();
      BuildStatus status = session.cancellingOnInterrupt(() -> List.of(submitted.getBuildId()), () -> {
        try (view) {
          return session.follow(submitted, entry -> {
            view.show(entry);
            if (traceWriter != null) {
              traceWriter.record(entry);
            }
          }, view != BuildSession.QUIET || traceWriter != null);
        }
      });
      if (traceWriter != null) {
        traceWriter.write(run().path(trace));
      }
      CacheFlags.printWarnings(status, err);
      if (BuildSession.failure(status) != null) {
        throw BuildSession.failureError(status);
      }
      List<String> written = session.writeOutputs(status, outputSpecs, pushes, names, stdout);
      if (buildx.load) {
        written.add("docker (" + new OutputWriter(session.client(), status.getBuildId(), stdout, run()).load() + ")");
      }
      writeResultFiles(status, names);
      if (buildx.quiet) {
        stdout.println(BuildMetadata.imageId(status));
        return ExitCodes.OK;
      }
      // with the result on standard output, the summary goes to stderr
      PrintStream summary = outputSpecs.stream().anyMatch(OutputSpec::toStdout) ? err : stdout;
      summary.printf("%s in %.1fs%n", BuildSession.summary(status, written),
          (System.currentTimeMillis() - started) / 1000.0);
      return ExitCodes.OK;
    }
  }

  /** Combinations of flags that cannot work, refused before anything starts (exit 2). */
  private void checkFlags(List<OutputSpec> outputSpecs, List<String> names, boolean pushes) {
    if (context.equals("-") && "-".equals(file)) {
      throw ExitCodes.usage("the context (-) and the Dockerfile (-f -) cannot both come from standard input");
    }
    if (dev.stagefarm.cli.build.GitContext.isGit(context)) {
      git = dev.stagefarm.cli.build.GitContext.parse(context, run().cwd()); // a remote URL or a bad ref: exit 2, with the reason
    }
    if (pushes && names.isEmpty()) {
      throw ExitCodes.usage("pushing needs a name: -t NAME, or name=REF in -o type=image|registry");
    }
    farmSelection.check();
    long toStdout = outputSpecs.stream().filter(OutputSpec::toStdout).count();
    if (toStdout > 1) {
      throw ExitCodes.usage("only one -o can write to standard output (dest=-)");
    }
    if (toStdout > 0 && buildx.quiet) {
      throw ExitCodes.usage("-q prints the image ID on standard output: it cannot go with an -o to dest=-");
    }
    if (toStdout > 0 && "-".equals(file)) {
      // not a conflict of streams, but almost always a mistake in a pipeline
      err().println("note: the Dockerfile comes from standard input and the result goes to standard output");
    }
  }

  private PrintStream err() {
    return run().err();
  }

  /** The Dockerfile: {@code -f FILE}, {@code -f -} (standard input) or CONTEXT/Dockerfile. */
  private byte[] readDockerfile() {
    if ("-".equals(file)) {
      try {
        byte[] bytes = run().in().readNBytes(MAX_STDIN_DOCKERFILE + 1);
        if (bytes.length > MAX_STDIN_DOCKERFILE) {
          throw ExitCodes.usage("the Dockerfile on standard input is over the limit of " + MAX_STDIN_DOCKERFILE + " bytes");
        }
        if (bytes.length == 0) {
          throw ExitCodes.usage("-f -: standard input is empty (no Dockerfile)");
        }
        return bytes;
      } catch (IOException e) {
        throw new UserError("reading the Dockerfile from standard input failed: " + e.getMessage());
      }
    }
    Path dockerfile;
    if (unpacked != null) {
      // -f names a file inside the archive or checkout, as with docker build - < ctx.tar
      dockerfile = dev.stagefarm.cli.build.TarContext.dockerfile(contextDir, file != null ? file : "Dockerfile",
          git != null ? "git checkout" : "archive");
    } else {
      dockerfile = file != null ? run().path(file) : contextDir.resolve("Dockerfile");
    }
    try {
      return Files.readAllBytes(dockerfile);
    } catch (NoSuchFileException e) {
      throw new UserError("Dockerfile not found: " + dockerfile);
    } catch (IOException e) {
      throw new UserError("cannot read Dockerfile " + dockerfile + ": " + e.getMessage());
    }
  }

  /**
   * A tarball context ({@code -} or an archive path) unpacked into a private directory, a local git
   * repository checked out into one; else CONTEXT.
   */
  private Path unpackTarball() throws IOException {
    if (git != null) {
      unpacked = Files.createTempDirectory("stagefarm-git-context-");
      return git.checkout(unpacked);
    }
    boolean stdin = context.equals("-");
    if (!stdin && !(dev.stagefarm.cli.build.TarContext.isArchivePath(context) && Files.isRegularFile(run().path(context)))) {
      return run().path(context);
    }
    unpacked = Files.createTempDirectory("stagefarm-context-");
    try (var in = stdin ? run().in() : Files.newInputStream(run().path(context))) {
      new dev.stagefarm.cli.build.TarContext().extract(in, unpacked, stdin ? "on standard input" : context);
    }
    return unpacked;
  }

  private void writeResultFiles(BuildStatus status, List<String> names) {
    try {
      if (buildx.iidFile != null) {
        BuildMetadata.writeIidFile(run().path(buildx.iidFile), status);
      }
      if (buildx.metadataFile != null) {
        BuildMetadata.writeMetadataFile(run().path(buildx.metadataFile), status, names);
      }
    } catch (IOException e) {
      throw new UserError("writing the build's result files failed: " + e.getMessage());
    }
  }

  private Farm openFarm(ProgressView view) throws Exception {
    if (farmSelection.remote()) {
      return farmSelection.open(); // connects on the first call
    }
    farmSelection.checkCanStart(); // the thin client: one line, no progress before it
    view.phaseStarted(farmSelection.oneShot ? "start the embedded farm (" + farmSelection.workers() + " workers)"
        : "connect to the local farm");
    Farm farm = farmSelection.open();
    view.phaseDone("");
    return farm;
  }


  private RunContext run() {
    return farmSelection.run();
  }
}
