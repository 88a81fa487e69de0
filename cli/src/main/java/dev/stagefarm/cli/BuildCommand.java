package dev.stagefarm.cli;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.BuildSession;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.DockerfileCheck;
import dev.stagefarm.cli.build.OutputSpec;
import dev.stagefarm.cli.build.ProgressView;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.build.TraceWriter;
import dev.stagefarm.cli.farm.ApiClientFlags;
import dev.stagefarm.cli.farm.Farm;
import dev.stagefarm.cli.farm.FarmChoice;
import dev.stagefarm.cli.farm.FarmFlags;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
      description = "Use this coordinator instead of an embedded farm; with several (a farm in HA), the client"
          + " follows the active one.")
  String coordinator;

  @Option(names = "--trace", paramLabel = "FILE", description = "Write the build timeline as Chrome trace-event JSON.")
  Path trace;

  @Option(names = "--workers", paramLabel = "N", description = "Workers of the embedded farm (default: 2).")
  int workers = 2;

  @Mixin FarmFlags farmFlags;

  @Mixin ApiClientFlags apiClientFlags;

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
    ProgressView view = BuildSession.progressView(progress, err); // validates --progress before anything starts
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
            .putAllBuildArgs(BuildSession.buildArgs(buildArgs, System::getenv))
            .setNoCache(noCache)
            .addAllTags(tags)
            .setPlatform(BuildSession.platform(platform));
    BuildSession.addSecrets(request, secrets, System::getenv);
    BuildSession.addOutputs(request, outputSpecs, push);

    DockerfileCheck.check(dockerfile.getFileName().toString(), request.build());
    ScannedContext scanned = ContextScanner.scan(context);
    try (Farm farm = FarmChoice.open(coordinator, apiClientFlags, farmFlags, workers)) {
      BuildSession session = new BuildSession(new BuildClient(farm));
      BuildStatus submitted = session.submit(request, scanned);
      TraceWriter traceWriter = trace == null ? null : new TraceWriter();
      BuildStatus status = session.cancellingOnInterrupt(() -> List.of(submitted.getBuildId()), () -> {
        try (view) {
          return session.follow(submitted, entry -> {
            view.show(entry);
            if (traceWriter != null) {
              traceWriter.record(entry);
            }
          });
        }
      });
      if (traceWriter != null) {
        traceWriter.write(trace);
      }
      String failure = BuildSession.failure(status);
      if (failure != null) {
        throw new UserError(failure);
      }
      List<String> written = session.writeOutputs(status, outputSpecs, push, tags);
      System.out.printf("%s in %.1fs%n", BuildSession.summary(status, written),
          (System.currentTimeMillis() - started) / 1000.0);
      return 0;
    }
  }
}
