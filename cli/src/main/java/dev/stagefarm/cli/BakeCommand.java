package dev.stagefarm.cli;

import dev.stagefarm.bake.BakeDefinition;
import dev.stagefarm.bake.BakeFiles;
import dev.stagefarm.bake.BakePrinter;
import dev.stagefarm.bake.BakeResolver;
import dev.stagefarm.bake.BakeTarget;
import dev.stagefarm.bake.hcl.HclException;
import dev.stagefarm.cli.bake.BakeJob;
import dev.stagefarm.cli.bake.BakeRun;
import dev.stagefarm.cli.build.DockerfileCheck;
import dev.stagefarm.cli.farm.FarmSelection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stagefarm bake}: builds the targets of buildx bake files (HCL, JSON, compose) on the farm,
 * all submitted together, so a stage several targets share is built once (the farm's single
 * flight).
 */
@Command(
    name = "bake",
    mixinStandardHelpOptions = true,
    description = "Build the targets of a bake file (docker buildx bake's HCL, JSON or compose formats) on the farm.")
public final class BakeCommand implements Callable<Integer> {

  @Parameters(paramLabel = "TARGET|GROUP", arity = "0..*",
      description = "Targets or groups to build (default: the group or target named default).")
  List<String> names = new ArrayList<>();

  @Option(names = {"-f", "--file"}, paramLabel = "FILE",
      description = "A bake file (repeatable, merged in order; - is standard input). Default: those of "
          + "compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml, docker-bake.json, docker-bake.hcl,"
          + " docker-bake.override.json, docker-bake.override.hcl found here, in that order.")
  List<String> files = new ArrayList<>();

  @Option(names = "--set", paramLabel = "TARGET.KEY=VALUE",
      description = "Override a target attribute (repeatable; TARGET may be a glob, e.g. *.args.VERSION=2).")
  List<String> sets = new ArrayList<>();

  @Option(names = "--print", description = "Print the resolved definition as JSON and build nothing.")
  boolean print;

  @Option(names = "--push", description = "Push every target's tags (same as --set *.push=true).")
  boolean push;

  @Option(names = "--no-cache", description = "Do not use the cache for any target (same as --set *.no-cache=true).")
  boolean noCache;

  @Option(names = "--load", hidden = true)
  boolean load;

  @Option(names = "--progress", paramLabel = "MODE",
      description = "auto, tty, plain or quiet (default: auto). plain: each line prefixed with its target;"
          + " tty: one live view of every target's stages, each named TARGET STAGE.")
  String progress = "auto";

  @Option(names = "--tenant", paramLabel = "NAME", description = "Whose share of the farm's workers every target's"
      + " build uses, on a farm without authentication (with it, the caller's identity is the tenant). Default: default.")
  String tenant = "";

  @Option(names = "--priority", paramLabel = "N", description = "The priority of every target's build: stages of a"
      + " higher priority are released to the workers first (running stages are never preempted); at most the"
      + " tenant's max-priority. Default: 0.")
  int priority;

  /** Which farm, and the run served: this process's, or a thin client's in the local farm. */
  @Mixin FarmSelection farmSelection;

  @Override
  public Integer call() throws Exception {
    if (load) {
      throw new UserError("--load (into a Docker engine) is not supported by stagefarm bake yet; use"
          + " --set *.output=type=docker,dest=FILE and docker load");
    }
    if (!List.of("auto", "tty", "plain", "quiet").contains(progress)) {
      throw new UserError("--progress must be auto, tty, plain or quiet, not \"" + progress + "\"");
    }
    farmSelection.check();
    BakeResolver.Result result = resolve();
    if (print) {
      run().out().println(BakePrinter.print(result));
      return 0;
    }
    List<BakeJob> jobs = new ArrayList<>();
    for (BakeTarget target : result.targets().values()) {
      BakeJob job = BakeJob.of(target, run()::env, run().cwd());
      job.request().setTenant(tenant).setPriority(priority); // as stagefarm build sends them, for every target
      try {
        var request = job.request();
        var platform = request.getPlatform();
        DockerfileCheck.check(job.dockerfileName(), request.getDockerfile().toByteArray(), request.getTarget(),
            request.getBuildArgsMap(), platform.getOs().isEmpty() && platform.getArchitecture().isEmpty() ? null
                : new dev.stagefarm.dockerfile.graph.Platform(platform.getOs(), platform.getArchitecture(),
                    platform.getVariant()));
      } catch (UserError e) {
        throw new UserError("target \"" + job.name() + "\": " + e.getMessage());
      }
      jobs.add(job);
    }
    boolean tty = progress.equals("tty")
        || (progress.equals("auto") && run().liveProgress());
    if (!farmSelection.remote()) {
      farmSelection.checkCanStart(); // the thin client: one line, no progress before it
    }
    return new BakeRun(jobs, progress.equals("quiet"), tty, run().err(), run().out(), run())
        .run(farmSelection::open);
  }

  private BakeResolver.Result resolve() {
    List<String> overrides = new ArrayList<>();
    if (push) {
      overrides.add("*.push=true");
    }
    if (noCache) {
      overrides.add("*.no-cache=true");
    }
    overrides.addAll(sets);
    try {
      List<Path> paths = files.isEmpty() ? BakeFiles.defaults(run().cwd()) : files.stream().map(f -> f.equals("-") ? Path.of(f) : run().path(f)).toList();
      BakeDefinition definition = BakeFiles.read(paths, run().in(), run()::env);
      return BakeResolver.resolve(definition, names, new BakeResolver.Options(run()::env, overrides, localPlatform()));
    } catch (HclException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** {@code BAKE_LOCAL_PLATFORM}: this machine's platform in OCI terms. */
  private static String localPlatform() {
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    return "linux/" + switch (arch) {
      case "x86_64", "amd64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      default -> arch;
    };
  }

  private RunContext run() {
    return farmSelection.run();
  }
}
