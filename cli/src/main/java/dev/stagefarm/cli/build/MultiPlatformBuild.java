package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.Platform;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code --platform a,b}: one build per platform on the farm, submitted together and followed
 * together (each stage shown as {@code [PLATFORM STAGE]}), whose images are written as one OCI
 * image index ({@code -o type=oci}: a manifest per platform) or pushed as one ({@code --push},
 * {@code type=image,push=true}, {@code type=registry}: the farm pushes each manifest, then the
 * index). The docker archive and the filesystem outputs cannot hold several platforms' images:
 * refused before anything starts.
 */
public final class MultiPlatformBuild {
  private final BuildClient client;
  private final List<Platform> platforms;

  private final dev.stagefarm.cli.RunContext run;

  public MultiPlatformBuild(BuildClient client, List<Platform> platforms) {
    this(client, platforms, dev.stagefarm.cli.RunContext.process());
  }

  /** @param run whose Ctrl-C cancels the builds, whose directory a relative {@code dest} is in */
  public MultiPlatformBuild(BuildClient client, List<Platform> platforms, dev.stagefarm.cli.RunContext run) {
    this.client = client;
    this.platforms = List.copyOf(platforms);
    this.run = run;
  }

  /** Refuses what a multi-platform build cannot do yet, before any farm is started or contacted. */
  public static void check(List<OutputSpec> outputs) {
    for (OutputSpec output : outputs) {
      if (output.type() != OutputSpec.Type.OCI && output.type() != OutputSpec.Type.IMAGE
          && output.type() != OutputSpec.Type.REGISTRY) {
        throw dev.stagefarm.cli.ExitCodes.usage("-o type=" + output.type().flagName() + " cannot hold images of several platforms: use"
            + " type=oci (an OCI image index), or type=image|registry to push one");
      }
      if (output.toStdout()) {
        throw dev.stagefarm.cli.ExitCodes.usage("-o type=oci,dest=- with several platforms: writing an image index to standard output is"
            + " not supported yet; give dest a file");
      }
    }
  }

  /** The builds' statuses, one per platform in order, once every one has ended. */
  public List<BuildStatus> run(SubmitBuildRequest request, ProgressView view) {
    List<BuildStatus> submitted = new ArrayList<>();
    for (Platform platform : platforms) {
      submitted.add(client.submit(request.toBuilder().setPlatform(platform).build()));
    }
    var cancelOnInterrupt = run.cancellation().onCancel(() -> submitted.forEach(b -> client.cancel(b.getBuildId())));
    try (ExecutorService watchers = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<BuildStatus>> ends = new ArrayList<>();
      for (int i = 0; i < platforms.size(); i++) {
        BuildStatus build = submitted.get(i);
        ProgressView labelled = new LabelledProgress(view, text(platforms.get(i)));
        ends.add(watchers.submit(() -> BuildSession.watches(build, true)
            ? client.watch(build.getBuildId(), labelled::show) : build));
      }
      List<BuildStatus> statuses = new ArrayList<>();
      for (Future<BuildStatus> end : ends) {
        statuses.add(end.get());
      }
      return statuses;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof UserError user ? user : new UserError("following the builds failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    } finally {
      cancelOnInterrupt.close();
    }
  }

  /** Fails naming the first platform whose build did not succeed. */
  public void requireSucceeded(List<BuildStatus> statuses) {
    for (int i = 0; i < statuses.size(); i++) {
      String failure = BuildSession.failure(statuses.get(i));
      if (failure != null) {
        throw new UserError(text(platforms.get(i)) + ": " + failure);
      }
    }
  }

  /** Writes the image index of the builds to each output; returns what was written, for the summary. */
  public List<String> export(List<BuildStatus> statuses, List<OutputSpec> outputs) {
    List<String> buildIds = statuses.stream().map(BuildStatus::getBuildId).toList();
    List<String> written = new ArrayList<>();
    for (OutputSpec output : outputs.stream().filter(o -> o.type() == OutputSpec.Type.OCI).toList()) {
      Path dest = run.path(output.dest().orElseThrow());
      try (OutputStream out = Files.newOutputStream(dest)) {
        client.exportIndex(buildIds, out);
      } catch (IOException e) {
        throw new UserError("writing " + dest + " failed: " + e.getMessage());
      }
      written.add(dest + " (oci image index)");
    }
    return written;
  }

  /** Pushes the builds' images as one image index under the request's names; returns what was pushed, for the summary. */
  public String push(List<BuildStatus> statuses) {
    var pushed = client.pushIndex(statuses.stream().map(BuildStatus::getBuildId).toList());
    return "pushed " + String.join(", ", pushed.getPushedList()) + " (image index " + pushed.getIndexDigest() + ")";
  }

  /** One line per platform: its image's manifest digest. */
  public void summarize(List<BuildStatus> statuses, List<String> written, PrintStream out, double seconds) {
    for (int i = 0; i < statuses.size(); i++) {
      out.printf("image %s %s%n", text(platforms.get(i)), statuses.get(i).getImageDigest());
    }
    out.printf("%d platforms %s in %.1fs%n", statuses.size(),
        written.isEmpty() ? "stored in the farm's content store" : "written to " + String.join(", ", written), seconds);
  }

  private static String text(Platform platform) {
    return platform.getOs() + "/" + platform.getArchitecture()
        + (platform.getVariant().isEmpty() ? "" : "/" + platform.getVariant());
  }
}
