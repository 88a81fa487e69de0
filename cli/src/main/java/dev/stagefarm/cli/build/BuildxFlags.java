package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.program.RunOptions;
import dev.stagefarm.proto.v1.ExtraHost;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.proto.v1.Ulimit;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * docker buildx's flags of {@code stagefarm build} beyond the basics, same names and meanings
 * (docs/cli.md). Those stagefarm does not have yet are accepted by name and refused with a clear
 * error, so a pipeline learns at once which flag to drop rather than getting "unknown option".
 */
public final class BuildxFlags {

  @Option(names = "--iidfile", paramLabel = "FILE", description = "Write the image ID (its config digest) to FILE.")
  public Path iidFile;

  @Option(names = "--metadata-file", paramLabel = "FILE",
      description = "Write the build result metadata as JSON (buildx's keys: containerimage.digest, …).")
  public Path metadataFile;

  @Option(names = {"-q", "--quiet"}, description = "No progress; print only the image ID on standard output.")
  public boolean quiet;

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Set a label in the image config (repeatable).")
  public List<String> labels = new ArrayList<>();

  @Option(names = "--annotation", paramLabel = "[manifest:]KEY=VALUE",
      description = "Add an annotation to the image manifest (repeatable).")
  public List<String> annotations = new ArrayList<>();

  @Option(names = "--load", description = "Load the image into the Docker engine (docker load; DOCKER_HOST is honoured).")
  public boolean load;

  @Option(names = "--pull", description = "Always look up base image tags in the registry (stagefarm always does).")
  public boolean pull;

  @Option(names = "--network", paramLabel = "MODE",
      description = "Network of RUNs that name none: default (their own namespace with outbound access), none"
          + " (loopback only) or host (only on workers that allow it).")
  public String network;

  @Option(names = "--no-cache-filter", paramLabel = "STAGE[,STAGE…]", split = ",",
      description = "Build these stages (by name) without the cache; their results are still stored (repeatable).")
  public List<String> noCacheFilter = new ArrayList<>();

  @Option(names = "--add-host", paramLabel = "HOST:IP",
      description = "Add a line to /etc/hosts of every RUN (HOST=IP too; repeatable).")
  public List<String> addHosts = new ArrayList<>();

  @Option(names = "--shm-size", paramLabel = "SIZE",
      description = "Size of /dev/shm in RUNs: bytes, or with k, m or g (default: 64m).")
  public String shmSize;

  @Option(names = "--ulimit", paramLabel = "NAME=SOFT[:HARD]",
      description = "An rlimit of every RUN, as docker's --ulimit (nofile, nproc, core, stack, …; -1: unlimited;"
          + " repeatable). RLIMIT_NOFILE is capped at the worker's own hard limit.")
  public List<String> ulimits = new ArrayList<>();

  @Option(names = "--build-context", paramLabel = "NAME=DIR|docker-image://REF|oci-layout://PATH[@DIGEST]",
      description = "A named context: FROM NAME, COPY --from=NAME and RUN --mount from=NAME use the image (from a"
          + " registry or a local OCI layout); COPY --from=NAME reads the directory (repeatable).")
  public List<String> buildContexts = new ArrayList<>();

  // accepted by name, refused until the farm has them (docs/status.md)
  @Option(names = "--ssh", paramLabel = "SPEC", hidden = true) List<String> ssh = new ArrayList<>();
  @Option(names = "--attest", paramLabel = "SPEC", hidden = true) List<String> attest = new ArrayList<>();
  @Option(names = "--sbom", paramLabel = "SPEC", hidden = true) String sbom;
  @Option(names = "--provenance", paramLabel = "SPEC", hidden = true) String provenance;
  @Option(names = "--allow", paramLabel = "ENTITLEMENT", hidden = true) List<String> allow = new ArrayList<>();
  @Option(names = "--cgroup-parent", paramLabel = "PARENT", hidden = true) String cgroupParent;

  /** What these flags ask of a build, as bake targets give it too. */
  public record ImageOptions(Map<String, String> labels, Map<String, String> annotations, String network) {
    public ImageOptions {
      labels = Map.copyOf(labels);
      annotations = Map.copyOf(annotations);
    }
  }

  /** Refuses the flags stagefarm does not have yet; parses the rest. */
  public ImageOptions validate() {
    if (network != null && !List.of("default", "none", "host").contains(network)) {
      throw ExitCodes.usage("--network must be default, none or host, not \"" + network + "\"");
    }
    if (!ssh.isEmpty()) {
      throw ExitCodes.usage(SSH_NOT_SUPPORTED);
    }
    refuse("--attest", !attest.isEmpty());
    refuse("--sbom", sbom != null && !sbom.equals("false"));
    refuse("--provenance", provenance != null && !provenance.equals("false"));
    refuse("--allow", !allow.isEmpty());
    refuse("--cgroup-parent", cgroupParent != null);
    return new ImageOptions(keyValues("--label", labels), annotations(annotations), network == null ? "" : network);
  }

  /** Why {@code --ssh} is refused (docs/cli.md): bake's {@code ssh} attribute says the same. */
  public static final String SSH_NOT_SUPPORTED = "--ssh is not supported: a RUN runs on a farm worker, and"
      + " stagefarm does not forward the client's SSH agent socket through the coordinator to workers"
      + " (use --secret for keys a build needs)";

  /**
   * {@code --add-host}, {@code --shm-size}, {@code --ulimit} and {@code --no-cache-filter} into the
   * request, checked (exit 2 naming the bad value). Bake targets give the same values.
   */
  public static void addRunOptions(SubmitBuildRequest.Builder request, List<String> hosts, String shmSize,
      List<String> ulimits, List<String> noCacheFilter) {
    RunOptions options;
    try {
      options = new RunOptions(
          hosts.stream().map(RunOptions.ExtraHost::parse).toList(),
          shmSize == null || shmSize.isBlank() ? 0 : RunOptions.parseSize(shmSize),
          ulimits.stream().map(RunOptions.Ulimit::parse).toList());
    } catch (IllegalArgumentException e) {
      throw ExitCodes.usage(e.getMessage());
    }
    options.extraHosts().forEach(h -> request.addExtraHosts(ExtraHost.newBuilder().setHost(h.host()).setIp(h.ip())));
    request.setShmSizeBytes(options.shmSizeBytes());
    options.ulimits().forEach(u ->
        request.addUlimits(Ulimit.newBuilder().setName(u.name()).setSoft(u.soft()).setHard(u.hard())));
    for (String stage : noCacheFilter) {
      if (!stage.isBlank()) {
        request.addNoCacheFilter(stage.strip());
      }
    }
  }

  /** This command's {@link #addRunOptions(SubmitBuildRequest.Builder, List, String, List, List)}. */
  public void addRunOptions(SubmitBuildRequest.Builder request) {
    addRunOptions(request, addHosts, shmSize, ulimits, noCacheFilter);
  }

  private static void refuse(String flag, boolean given) {
    if (given) {
      throw ExitCodes.usage(flag + " is not supported yet (docs/status.md lists what stagefarm build lacks)");
    }
  }

  /** {@code KEY=VALUE} pairs; a key given twice keeps the last value, as buildx does. */
  public static Map<String, String> keyValues(String flag, List<String> values) {
    Map<String, String> parsed = new LinkedHashMap<>();
    for (String value : values) {
      int eq = value.indexOf('=');
      if (eq <= 0) {
        throw ExitCodes.usage(flag + " wants KEY=VALUE, got \"" + value + "\"");
      }
      parsed.put(value.substring(0, eq), value.substring(eq + 1));
    }
    return parsed;
  }

  /**
   * buildx's {@code --annotation [TYPE[PLATFORM]:]KEY=VALUE}: stagefarm's images are single
   * manifests, so plain keys and {@code manifest:} apply; other types are refused.
   */
  public static Map<String, String> annotations(List<String> values) {
    List<String> plain = new ArrayList<>();
    for (String value : values) {
      int eq = value.indexOf('=');
      int colon = value.indexOf(':');
      if (colon >= 0 && (eq < 0 || colon < eq)) {
        String type = value.substring(0, colon);
        if (!type.equals("manifest")) {
          throw ExitCodes.usage("--annotation " + value + ": type \"" + type + "\" is not supported yet (stagefarm"
              + " builds a single manifest: use KEY=VALUE or manifest:KEY=VALUE)");
        }
        value = value.substring(colon + 1);
      }
      plain.add(value);
    }
    return keyValues("--annotation", plain);
  }
}
