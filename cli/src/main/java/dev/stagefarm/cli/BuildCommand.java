package dev.stagefarm.cli;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.BuildMetadata;
import dev.stagefarm.cli.build.BuildxFlags;
import dev.stagefarm.cli.build.OutputWriter;
import dev.stagefarm.cli.build.RawJsonProgress;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.DockerfileCheck;
import dev.stagefarm.cli.build.OutputSpec;
import dev.stagefarm.cli.build.PlainProgress;
import dev.stagefarm.cli.build.ProgressView;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.build.SecretSpec;
import dev.stagefarm.cli.build.TraceWriter;
import dev.stagefarm.cli.build.TtyProgress;
import dev.stagefarm.cli.farm.ApiClientFlags;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.Farm;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildSecret;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.Output;
import dev.stagefarm.proto.v1.Platform;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
    description = "Build an image from a Dockerfile on the farm (an embedded one unless --coordinator is given).")
public final class BuildCommand implements Callable<Integer> {

  /** Largest Dockerfile read from standard input ({@code -f -}); the coordinator's limit. */
  static final int MAX_STDIN_DOCKERFILE = 4 << 20;

  @Parameters(index = "0", paramLabel = "CONTEXT", description = "The build context directory.")
  String context;

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

  @Option(names = "--platform", paramLabel = "OS/ARCH", description = "Target platform, e.g. linux/amd64.")
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

  @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT…]",
      defaultValue = "${env:STAGEFARM_COORDINATOR}",
      description = "Use this coordinator instead of an embedded farm; with several (a farm in HA), the client"
          + " follows the active one (default: $STAGEFARM_COORDINATOR).")
  String coordinator;

  @Option(names = "--trace", paramLabel = "FILE", description = "Write the build timeline as Chrome trace-event JSON.")
  Path trace;

  @Option(names = "--workers", paramLabel = "N", description = "Workers of the embedded farm (default: 2).")
  int workers = 2;

  @Mixin FarmFlags farmFlags;

  @Mixin BuildxFlags buildx;

  @Mixin ApiClientFlags apiClientFlags;

  @Override
  public Integer call() throws Exception {
    long started = System.currentTimeMillis();
    PrintStream err = System.err;
    PrintStream stdout = System.out;
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
    ProgressView view = progressView(err); // validates --progress before anything starts
    String dockerfileName = file == null || file.equals("-") ? "Dockerfile" : Path.of(file).getFileName().toString();
    byte[] dockerfileBytes = readDockerfile();
    SubmitBuildRequest.Builder request =
        SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFrom(dockerfileBytes))
            .setDockerfileName(dockerfileName)
            .setTarget(target)
            .putAllBuildArgs(parseBuildArgs())
            .setNoCache(noCache)
            .addAllTags(names)
            .setPlatform(parsePlatform())
            .putAllLabels(imageOptions.labels())
            .putAllAnnotations(imageOptions.annotations())
            .setNetwork(imageOptions.network());
    addSecrets(request);
    for (OutputSpec output : outputSpecs) {
      if (output.type().writesFiles()) {
        request.addOutputs(Output.newBuilder().setType(output.type().name().toLowerCase(java.util.Locale.ROOT))
            .putAttrs("dest", output.dest().orElseThrow()));
      }
    }
    if (pushes) {
      request.addOutputs(Output.newBuilder().setType("registry").putAttrs("push", "true"));
    }

    DockerfileCheck.check(dockerfileName, request.build());
    try (Farm farm = openFarm(view)) {
      BuildClient client = new BuildClient(farm);
      view.phaseStarted("load build context");
      ScannedContext scanned = ContextScanner.scan(Path.of(context));
      BuildClient.UploadResult uploaded = client.upload(scanned);
      view.phaseDone("transferring context: " + uploaded.files() + " files, " + uploaded.uploaded() + " sent ("
          + uploaded.uploadedBytes() + " bytes)");
      request.setContextManifest(scanned.manifestDigest().toString());
      view.phaseStarted("submit and plan");
      BuildStatus submitted = client.submit(request.build());
      view.phaseDone("build " + submitted.getBuildId());
      TraceWriter traceWriter = trace == null ? null : new TraceWriter();
      BuildStatus status;
      // Ctrl-C cancels the build on the farm instead of leaving it running
      Thread cancelOnInterrupt = new Thread(() -> client.cancel(submitted.getBuildId()), "stagefarm-cancel");
      Runtime.getRuntime().addShutdownHook(cancelOnInterrupt);
      try (view) {
        status =
            BuildClient.isFinalState(submitted)
                ? submitted
                : client.watch(
                    submitted.getBuildId(),
                    entry -> {
                      view.show(entry);
                      if (traceWriter != null) {
                        traceWriter.record(entry);
                      }
                    });
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(cancelOnInterrupt);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running: the build is being cancelled
        }
      }
      if (traceWriter != null) {
        traceWriter.write(trace);
      }
      if (status.getState() != BuildState.SUCCEEDED) {
        String error = status.getError().isEmpty() ? "build " + status.getState().name().toLowerCase() : status.getError();
        throw new UserError(error, status.getInfrastructureFailure() ? ExitCodes.FARM_FAILED : ExitCodes.BUILD_FAILED);
      }
      List<String> written = new ArrayList<>();
      OutputWriter writer = new OutputWriter(client, status.getBuildId(), stdout);
      for (OutputSpec output : outputSpecs) {
        if (output.type().writesFiles()) {
          written.add(writer.write(output));
        }
      }
      if (buildx.load) {
        written.add("docker (" + writer.load() + ")");
      }
      if (pushes) {
        written.add("pushed " + String.join(", ", names));
      }
      writeResultFiles(status, names);
      if (buildx.quiet) {
        stdout.println(BuildMetadata.imageId(status));
        return ExitCodes.OK;
      }
      String where = written.isEmpty() ? "stored in the farm's content store" : "written to " + String.join(", ", written);
      // with the result on standard output, the summary goes to stderr
      PrintStream summary = outputSpecs.stream().anyMatch(OutputSpec::toStdout) ? err : stdout;
      summary.printf("image %s %s in %.1fs%n", status.getImageDigest(), where,
          (System.currentTimeMillis() - started) / 1000.0);
      return ExitCodes.OK;
    }
  }

  /** Combinations of flags that cannot work, refused before anything starts (exit 2). */
  private void checkFlags(List<OutputSpec> outputSpecs, List<String> names, boolean pushes) {
    if (context.equals("-") || context.endsWith(".tar") || context.endsWith(".tar.gz") || context.endsWith(".tgz")) {
      throw ExitCodes.usage("a tarball build context (" + context + ") is not supported yet: give a directory");
    }
    if (context.contains("://") || context.startsWith("git@") || context.endsWith(".git")) {
      throw ExitCodes.usage("a git or URL build context (" + context + ") is not supported yet: give a directory");
    }
    if (pushes && names.isEmpty()) {
      throw ExitCodes.usage("pushing needs a name: -t NAME, or name=REF in -o type=image|registry");
    }
    if (workers < 1) {
      throw ExitCodes.usage("--workers must be at least 1");
    }
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

  private static PrintStream err() {
    return System.err;
  }

  /** The Dockerfile: {@code -f FILE}, {@code -f -} (standard input) or CONTEXT/Dockerfile. */
  private byte[] readDockerfile() {
    if ("-".equals(file)) {
      try {
        byte[] bytes = System.in.readNBytes(MAX_STDIN_DOCKERFILE + 1);
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
    Path dockerfile = file != null ? Path.of(file) : Path.of(context).resolve("Dockerfile");
    try {
      return Files.readAllBytes(dockerfile);
    } catch (NoSuchFileException e) {
      throw new UserError("Dockerfile not found: " + dockerfile);
    } catch (IOException e) {
      throw new UserError("cannot read Dockerfile " + dockerfile + ": " + e.getMessage());
    }
  }

  private void writeResultFiles(BuildStatus status, List<String> names) {
    try {
      if (buildx.iidFile != null) {
        BuildMetadata.writeIidFile(buildx.iidFile, status);
      }
      if (buildx.metadataFile != null) {
        BuildMetadata.writeMetadataFile(buildx.metadataFile, status, names);
      }
    } catch (IOException e) {
      throw new UserError("writing the build's result files failed: " + e.getMessage());
    }
  }

  private Farm openFarm(ProgressView view) throws Exception {
    if (coordinator != null && !coordinator.isBlank()) {
      return RemoteFarm.connect(coordinator, apiClientFlags); // connects on the first call
    }
    try {
      view.phaseStarted("start the embedded farm (" + workers + " workers)");
      EmbeddedFarm farm = startEmbedded();
      view.phaseDone("");
      // Ctrl-C: stop the workers (and their containers) and the broker instead of leaving them behind
      Runtime.getRuntime().addShutdownHook(new Thread(farm::close, "stagefarm-embedded-stop"));
      return farm;
    } catch (UserError e) {
      throw e;
    } catch (Exception e) {
      throw ExitCodes.farm("starting the embedded farm failed: " + e.getMessage());
    }
  }

  private EmbeddedFarm startEmbedded() throws Exception {
    return EmbeddedFarm.start(
          new EmbeddedFarm.Options(
              FarmFlags.home(),
              null,
              workers,
              farmFlags.registrySettings(),
              // short share-group heartbeats, so the workers of a one-shot farm join within seconds;
              // default record locks and a session timeout that survives a loaded machine
              new EmbeddedKafka.Settings(
                  Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofMillis(500), Duration.ofSeconds(20), Map.of()),
              BuildCoordinator.Settings.DEFAULT,
              EmbeddedFarm.IN_PROCESS,
              InProcessWorkers.launcher()));
  }

  private ProgressView progressView(PrintStream err) {
    if (buildx.quiet) {
      return QUIET;
    }
    return switch (progress) {
      case "plain" -> new PlainProgress(err);
      case "tty" -> new TtyProgress(err);
      case "quiet" -> QUIET;
      case "rawjson" -> new RawJsonProgress(err);
      case "auto" -> System.console() != null && System.getenv("CI") == null ? new TtyProgress(err) : new PlainProgress(err);
      default -> throw ExitCodes.usage("--progress must be auto, tty, plain, rawjson or quiet, not \"" + progress + "\"");
    };
  }

  private static final ProgressView QUIET = new ProgressView() {
    @Override
    public void show(BuildProgress progress) {}

    @Override
    public void close() {}
  };

  /** Reads every {@code --secret} here, before anything starts: a missing file or variable fails at once. */
  private void addSecrets(SubmitBuildRequest.Builder request) {
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (String text : secrets) {
      SecretSpec secret = SecretSpec.parse(text, System::getenv);
      if (!ids.add(secret.id())) {
        throw ExitCodes.usage("--secret id=" + secret.id() + " is given twice");
      }
      request.addSecrets(BuildSecret.newBuilder().setId(secret.id()).setValue(ByteString.copyFrom(secret.value())));
    }
  }

  private Map<String, String> parseBuildArgs() {
    Map<String, String> args = new LinkedHashMap<>();
    for (String arg : buildArgs) {
      int eq = arg.indexOf('=');
      if (eq == 0) {
        throw ExitCodes.usage("--build-arg wants K=V, got \"" + arg + "\"");
      }
      if (eq < 0) {
        // docker takes the value from the environment for a bare name
        String value = System.getenv(arg);
        if (value != null) {
          args.put(arg, value);
        }
      } else {
        args.put(arg.substring(0, eq), arg.substring(eq + 1));
      }
    }
    return args;
  }

  private Platform parsePlatform() {
    if (platform.isEmpty()) {
      return Platform.getDefaultInstance();
    }
    String[] parts = platform.split("/");
    if (parts.length < 2 || parts.length > 3) {
      throw ExitCodes.usage("--platform wants OS/ARCH[/VARIANT], got \"" + platform + "\"");
    }
    Platform.Builder p = Platform.newBuilder().setOs(parts[0]).setArchitecture(parts[1]);
    if (parts.length == 3) {
      p.setVariant(parts[2]);
    }
    return p.build();
  }
}
