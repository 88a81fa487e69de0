package dev.stagefarm.cli;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.DockerfileCheck;
import dev.stagefarm.cli.build.OutputSpec;
import dev.stagefarm.cli.build.PlainProgress;
import dev.stagefarm.cli.build.ProgressView;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.build.SecretSpec;
import dev.stagefarm.cli.build.StatCache;
import dev.stagefarm.cli.build.TraceWriter;
import dev.stagefarm.cli.build.TtyProgress;
import dev.stagefarm.cli.farm.ApiClientFlags;
import dev.stagefarm.cli.farm.Farm;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.cli.farm.FarmSelection;
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
 * {@code --coordinator} it uses the local background farm, started on first use ({@code --one-shot}: an
 * embedded farm in this process for this build only).
 */
@Command(
    name = "build",
    mixinStandardHelpOptions = true,
    description = "Build an image from a Dockerfile on the farm (the local background farm unless --coordinator"
        + " is given).")
public final class BuildCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "CONTEXT", description = "The build context directory.")
  Path context;

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "The Dockerfile (default: CONTEXT/Dockerfile).")
  Path file;

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

  @Option(names = {"-o", "--output"}, paramLabel = "type=oci|docker,dest=PATH", description = "Write the image as a tarball.")
  List<String> outputs = new ArrayList<>();

  @Option(names = "--push", description = "Push the image to the registry of each -t name.")
  boolean push;

  @Option(names = "--progress", paramLabel = "MODE", description = "auto, tty, plain or quiet (default: auto).")
  String progress = "auto";

  @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT…]",
      description = "Use this coordinator instead of the local farm; with several (a farm in HA), the client"
          + " follows the active one.")
  String coordinator;

  @Option(names = "--trace", paramLabel = "FILE", description = "Write the build timeline as Chrome trace-event JSON.")
  Path trace;

  @Option(names = "--workers", paramLabel = "N", description = "Workers of the local or one-shot farm (default: 2).")
  int workers = 2;

  @Mixin FarmFlags farmFlags;

  @Mixin ApiClientFlags apiClientFlags;

  @Mixin FarmSelection farmSelection;

  @Override
  public Integer call() throws Exception {
    long started = System.currentTimeMillis();
    PrintStream err = System.err;
    List<OutputSpec> outputSpecs = new ArrayList<>();
    for (String output : outputs) {
      outputSpecs.add(OutputSpec.parse(output));
    }
    if (push && tags.isEmpty()) {
      throw new UserError("--push needs at least one -t NAME to push to");
    }
    if (workers < 1) {
      throw new UserError("--workers must be at least 1");
    }
    ProgressView view = progressView(err); // validates --progress before anything starts
    Path dockerfile = file != null ? file : context.resolve("Dockerfile");
    byte[] dockerfileBytes;
    try {
      dockerfileBytes = Files.readAllBytes(dockerfile);
    } catch (NoSuchFileException e) {
      throw new UserError("Dockerfile not found: " + dockerfile);
    }
    SubmitBuildRequest.Builder request =
        SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFrom(dockerfileBytes))
            .setDockerfileName(dockerfile.getFileName().toString())
            .setTarget(target)
            .putAllBuildArgs(parseBuildArgs())
            .setNoCache(noCache)
            .addAllTags(tags)
            .setPlatform(parsePlatform());
    addSecrets(request);
    for (OutputSpec output : outputSpecs) {
      request.addOutputs(Output.newBuilder().setType(output.type()).putAttrs("dest", output.dest().toString()));
    }
    if (push) {
      request.addOutputs(Output.newBuilder().setType("registry").putAttrs("push", "true"));
    }

    DockerfileCheck.check(dockerfile.getFileName().toString(), request.build());
    // unchanged files are not hashed again (stat cache under the farm home)
    ScannedContext scanned = ContextScanner.scan(context, StatCache.load(FarmFlags.home().resolve("context-cache"), context));
    try (Farm farm = openFarm(err)) {
      BuildClient client = new BuildClient(farm);
      client.upload(scanned);
      request.setContextManifest(scanned.manifestDigest().toString());
      BuildStatus submitted = client.submit(request.build());
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
        throw new UserError(status.getError().isEmpty() ? "build " + status.getState().name().toLowerCase() : status.getError());
      }
      List<String> written = new ArrayList<>();
      for (OutputSpec output : outputSpecs) {
        try (OutputStream out = Files.newOutputStream(output.dest())) {
          client.export(status.getBuildId(), output.type(), out);
        } catch (IOException e) {
          throw new UserError("writing " + output.dest() + " failed: " + e.getMessage());
        }
        written.add(output.dest() + " (" + output.type() + ")");
      }
      if (push) {
        written.add("pushed " + String.join(", ", tags));
      }
      String where = written.isEmpty() ? "in the farm's content store" : String.join(", ", written);
      System.out.printf(
          "image %s %s in %.1fs%n",
          status.getImageDigest(), written.isEmpty() ? "stored " + where : "written to " + where,
          (System.currentTimeMillis() - started) / 1000.0);
      return 0;
    }
  }

  private Farm openFarm(PrintStream err) throws Exception {
    return farmSelection.open(coordinator, apiClientFlags, farmFlags, workers, err);
  }

  private ProgressView progressView(PrintStream err) {
    return switch (progress) {
      case "plain" -> new PlainProgress(err);
      case "tty" -> new TtyProgress(err);
      case "quiet" -> new ProgressView() {
        @Override
        public void show(BuildProgress progress) {}

        @Override
        public void close() {}
      };
      case "auto" -> System.console() != null && System.getenv("CI") == null ? new TtyProgress(err) : new PlainProgress(err);
      default -> throw new UserError("--progress must be auto, tty, plain or quiet, not \"" + progress + "\"");
    };
  }

  /** Reads every {@code --secret} here, before anything starts: a missing file or variable fails at once. */
  private void addSecrets(SubmitBuildRequest.Builder request) {
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (String text : secrets) {
      SecretSpec secret = SecretSpec.parse(text, System::getenv);
      if (!ids.add(secret.id())) {
        throw new UserError("--secret id=" + secret.id() + " is given twice");
      }
      request.addSecrets(BuildSecret.newBuilder().setId(secret.id()).setValue(ByteString.copyFrom(secret.value())));
    }
  }

  private Map<String, String> parseBuildArgs() {
    Map<String, String> args = new LinkedHashMap<>();
    for (String arg : buildArgs) {
      int eq = arg.indexOf('=');
      if (eq == 0) {
        throw new UserError("--build-arg wants K=V, got \"" + arg + "\"");
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
      throw new UserError("--platform wants OS/ARCH[/VARIANT], got \"" + platform + "\"");
    }
    Platform.Builder p = Platform.newBuilder().setOs(parts[0]).setArchitecture(parts[1]);
    if (parts.length == 3) {
      p.setVariant(parts[2]);
    }
    return p.build();
  }
}
