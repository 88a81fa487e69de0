package dev.stagefarm.cli.build;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildSecret;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.Output;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What {@code stagefarm build} and {@code stagefarm bake} share on the client: turning buildx's
 * flag values into a {@link SubmitBuildRequest}, sending a context once, submitting, following
 * progress with Ctrl-C cancelling the builds, and writing each image's outputs.
 */
public final class BuildSession {
  private final BuildClient client;
  private final dev.stagefarm.cli.RunContext run;
  /** Context manifest digest → its upload (several targets of a bake often share one context). */
  private final ConcurrentHashMap<String, CompletableFuture<Void>> uploads = new ConcurrentHashMap<>();

  public BuildSession(BuildClient client) {
    this(client, dev.stagefarm.cli.RunContext.process());
  }

  /** @param run whose Ctrl-C cancels the builds, whose standard output and directory the outputs go to */
  public BuildSession(BuildClient client, dev.stagefarm.cli.RunContext run) {
    this.client = client;
    this.run = run;
  }

  public BuildClient client() {
    return client;
  }

  // ---- from flags (or bake attributes) to the request

  /** {@code --progress auto|tty|plain|rawjson|quiet}, checked before anything starts. */
  public static ProgressView progressView(String mode, PrintStream err) {
    return progressView(mode, err, System.console() != null && System.getenv("CI") == null);
  }

  /** As {@link #progressView(String, PrintStream)}; {@code live}: what {@code auto} means (stderr a terminal, not CI). */
  public static ProgressView progressView(String mode, PrintStream err, boolean live) {
    return switch (mode) {
      case "plain" -> new PlainProgress(err);
      case "tty" -> new TtyProgress(err);
      case "quiet" -> QUIET;
      case "rawjson" -> new RawJsonProgress(err);
      case "auto" -> live ? new TtyProgress(err) : new PlainProgress(err);
      default -> throw ExitCodes.usage("--progress must be auto, tty, plain, rawjson or quiet, not \"" + mode + "\"");
    };
  }

  /** A view that shows nothing ({@code --progress quiet}, {@code -q}). */
  public static final ProgressView QUIET = new ProgressView() {
    @Override
    public void show(BuildProgress progress) {}

    @Override
    public void close() {}
  };

  /** {@code --build-arg K=V}; a bare {@code K} takes its value from the environment, as docker does. */
  public static Map<String, String> buildArgs(List<String> buildArgs, Function<String, String> env) {
    Map<String, String> args = new LinkedHashMap<>();
    for (String arg : buildArgs) {
      int eq = arg.indexOf('=');
      if (eq == 0) {
        throw ExitCodes.usage("--build-arg wants K=V, got \"" + arg + "\"");
      }
      if (eq < 0) {
        String value = env.apply(arg);
        if (value != null) {
          args.put(arg, value);
        }
      } else {
        args.put(arg.substring(0, eq), arg.substring(eq + 1));
      }
    }
    return args;
  }

  /** Reads every {@code --secret} now: a missing file or variable fails before anything starts. */
  public static void addSecrets(SubmitBuildRequest.Builder request, List<String> secrets, Function<String, String> env) {
    addSecrets(request, secrets, env, java.nio.file.Path.of(""));
  }

  /** As {@link #addSecrets(SubmitBuildRequest.Builder, List, Function)}, a relative {@code src} in {@code base}. */
  public static void addSecrets(SubmitBuildRequest.Builder request, List<String> secrets, Function<String, String> env,
      java.nio.file.Path base) {
    Set<String> ids = new HashSet<>();
    for (String text : secrets) {
      SecretSpec secret = SecretSpec.parse(text, env, base);
      if (!ids.add(secret.id())) {
        throw ExitCodes.usage("--secret id=" + secret.id() + " is given twice");
      }
      request.addSecrets(BuildSecret.newBuilder().setId(secret.id()).setValue(ByteString.copyFrom(secret.value())));
    }
  }

  /** The outputs the farm writes (files, directories, standard output), and a push of the request's names. */
  public static void addOutputs(SubmitBuildRequest.Builder request, List<OutputSpec> outputs, boolean push) {
    for (OutputSpec output : outputs) {
      if (output.type().writesFiles()) {
        request.addOutputs(Output.newBuilder().setType(output.type().name().toLowerCase(java.util.Locale.ROOT))
            .putAttrs("dest", output.dest().orElseThrow()));
      }
    }
    if (push) {
      request.addOutputs(Output.newBuilder().setType("registry").putAttrs("push", "true"));
    }
  }

  /**
   * {@code --build-context NAME=VALUE} (bake's {@code contexts}), checked before anything starts:
   * {@code docker-image://REF} stays as it is, a directory (relative to {@code base}) becomes its
   * absolute path; other sources are refused by name. The directories are untrusted like the main
   * context: scanned by {@link ContextScanner}, symlinks recorded, never followed. An OCI layout is
   * read and its blobs hashed here, once: {@link #addNamedContexts} uploads what this reading checked.
   */
  public static NamedContexts namedContexts(Map<String, String> contexts, java.nio.file.Path base) {
    Map<String, String> checked = new java.util.TreeMap<>();
    Map<String, OciLayoutContext> layouts = new java.util.TreeMap<>();
    contexts.forEach((name, value) -> {
      if (name.isBlank() || value == null || value.isBlank()) {
        throw ExitCodes.usage("--build-context wants NAME=VALUE, got \"" + name + "=" + value + "\"");
      }
      if (value.startsWith("docker-image://")) {
        if (value.length() == "docker-image://".length()) {
          throw ExitCodes.usage("--build-context " + name + ": docker-image:// names no image");
        }
        checked.put(name, value);
      } else if (value.startsWith(OciLayoutContext.SCHEME)) {
        // read (and verified) now, so a bad layout is a usage error before the farm starts; pinned to its root
        try {
          String spec = value.substring(OciLayoutContext.SCHEME.length());
          OciLayoutContext layout = OciLayoutContext.read(spec, base);
          int at = spec.lastIndexOf("@sha256:");
          java.nio.file.Path dir = base.resolve(at >= 0 ? spec.substring(0, at) : spec).toAbsolutePath().normalize();
          checked.put(name, OciLayoutContext.SCHEME + dir + "@" + layout.root());
          layouts.put(name, layout);
        } catch (java.io.IOException | RuntimeException e) { // RuntimeException: malformed JSON in the layout
          throw ExitCodes.usage("--build-context " + name + "=" + value + ": " + e.getMessage());
        }
      } else if (value.contains("://") || value.startsWith("git@")) {
        throw ExitCodes.usage("--build-context " + name + "=" + value + ": git and URL contexts are not supported (a"
            + " directory or docker-image://REF is)");
      } else {
        java.nio.file.Path dir = base.resolve(value).toAbsolutePath().normalize();
        if (!java.nio.file.Files.isDirectory(dir)) {
          throw ExitCodes.usage("--build-context " + name + "=" + value + ": not a directory");
        }
        checked.put(name, dir.toString());
      }
    });
    return new NamedContexts(java.util.Collections.unmodifiableMap(checked), Map.copyOf(layouts));
  }

  /**
   * Sends the directories of {@link #namedContexts} (each once per session) and the blobs of its OCI
   * layouts as they were checked, and names them in the request. A layout is not read again: the farm
   * verifies each blob it receives against its digest, so a file altered since the check fails the upload.
   */
  public void addNamedContexts(SubmitBuildRequest.Builder request, NamedContexts checked) {
    for (var named : checked.values().entrySet()) {
      String value = named.getValue();
      OciLayoutContext layout = checked.layouts().get(named.getKey());
      if (layout != null) {
        client.uploadFiles(layout.blobs(), "the OCI layout of --build-context " + named.getKey());
        value = OciLayoutContext.SCHEME + layout.root();
      } else if (!value.startsWith("docker-image://")) {
        ScannedContext scanned;
        try {
          scanned = ContextScanner.scan(java.nio.file.Path.of(value));
        } catch (java.io.IOException e) {
          throw new UserError("reading the build context " + named.getKey() + " (" + value + ") failed: "
              + e.getMessage());
        }
        upload(scanned);
        value = scanned.manifestDigest().toString();
      }
      request.putNamedContexts(named.getKey(), value);
    }
  }

  // ---- on the farm

  /** Uploads the context (once per session for the same context) and submits the build. */
  public BuildStatus submit(SubmitBuildRequest.Builder request, ScannedContext context) {
    upload(context);
    request.setContextManifest(context.manifestDigest().toString());
    return client.submit(request.build());
  }

  /** Uploads the context unless this session did already (or is doing so on another thread: waits for it). */
  public void upload(ScannedContext context) {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> earlier = uploads.putIfAbsent(context.manifestDigest().toString(), mine);
    if (earlier == null) {
      try {
        client.upload(context);
        mine.complete(null);
      } catch (RuntimeException e) {
        mine.completeExceptionally(e);
        throw e;
      }
      return;
    }
    try {
      earlier.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    }
  }

  /** Follows a submitted build to its end (a build that succeeded at submission: its progress replayed). */
  public BuildStatus follow(BuildStatus submitted, Consumer<BuildProgress> progress) {
    return follow(submitted, progress, true);
  }

  /**
   * Follows a submitted build to its end. A build can end at submission: its planning failed, or
   * every stage came from the cache and the farm answered once its image was assembled; such a build
   * is not watched, unless it succeeded and {@code replay} asks for its progress (a view that shows
   * the stages, a trace) — a quiet client saves the WatchBuild call.
   */
  public BuildStatus follow(BuildStatus submitted, Consumer<BuildProgress> progress, boolean replay) {
    return watches(submitted, replay) ? client.watch(submitted.getBuildId(), progress) : submitted;
  }

  /** Whether following {@code submitted} takes a WatchBuild call (see {@link #follow(BuildStatus, Consumer, boolean)}). */
  public static boolean watches(BuildStatus submitted, boolean replay) {
    return !BuildClient.isFinalState(submitted) || (replay && submitted.getState() == BuildState.SUCCEEDED);
  }

  /** Runs {@code work} with Ctrl-C cancelling the builds on the farm instead of leaving them running. */
  public <T> T cancellingOnInterrupt(Supplier<List<String>> buildIds, Supplier<T> work) {
    try (var cancel = run.cancellation().onCancel(() -> buildIds.get().forEach(client::cancel))) {
      return work.get();
    }
  }

  /** The build's error line, or null when it succeeded. */
  public static String failure(BuildStatus status) {
    if (status.getState() == BuildState.SUCCEEDED) {
      return null;
    }
    return status.getError().isEmpty() ? "build " + status.getState().name().toLowerCase() : status.getError();
  }

  /** The error a failed build ends the command with: exit 1, or 3 when the farm, not the build, failed. */
  public static UserError failureError(BuildStatus status) {
    return new UserError(failure(status),
        status.getInfrastructureFailure() ? ExitCodes.FARM_FAILED : ExitCodes.BUILD_FAILED);
  }

  /** Writes the image's file outputs; returns what was written, for the summary line. */
  public List<String> writeOutputs(BuildStatus status, List<OutputSpec> outputs, boolean push, List<String> names) {
    return writeOutputs(status, outputs, push, names, run.out());
  }

  /** As {@link #writeOutputs(BuildStatus, List, boolean, List)}, {@code dest=-} writing to {@code stdout}. */
  public List<String> writeOutputs(BuildStatus status, List<OutputSpec> outputs, boolean push, List<String> names,
      PrintStream stdout) {
    List<String> written = new ArrayList<>();
    OutputWriter writer = new OutputWriter(client, status.getBuildId(), stdout, run);
    for (OutputSpec output : outputs) {
      if (output.type().writesFiles()) {
        written.add(writer.write(output));
      }
    }
    if (push) {
      written.add("pushed " + String.join(", ", names));
    }
    return written;
  }

  /** {@code image sha256:… written to …} / {@code stored in the farm's content store}. */
  public static String summary(BuildStatus status, List<String> written) {
    return "image " + status.getImageDigest() + " "
        + (written.isEmpty() ? "stored in the farm's content store" : "written to " + String.join(", ", written));
  }
}
