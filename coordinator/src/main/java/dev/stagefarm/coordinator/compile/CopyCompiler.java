package dev.stagefarm.coordinator.compile;

import dev.stagefarm.program.ExcludePatterns;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.dockerfile.instructions.AddInstruction;
import dev.stagefarm.dockerfile.instructions.CopyInstruction;
import dev.stagefarm.dockerfile.instructions.PosixPaths;
import dev.stagefarm.dockerfile.instructions.RemoteSource;
import dev.stagefarm.dockerfile.instructions.SourceContent;
import dev.stagefarm.dockerfile.instructions.SourcesAndDest;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.InputPath;
import dev.stagefarm.program.SymbolicMode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * COPY and ADD (expanded) as a copy action, the way BuildKit's dispatchCopy builds its file op:
 * context sources selected now, {@code --from} sources left for the worker to expand in the
 * input, heredocs inline, URLs with their checksum.
 */
final class CopyCompiler {
  private final ContextSelector context;
  private final ProgramInputs inputs;
  private final String buildId;
  private final java.util.Map<String, ContextSelector> namedContexts;

  CopyCompiler(ContextSelector context, ProgramInputs inputs, String buildId,
      java.util.Map<String, ContextSelector> namedContexts) {
    this.namedContexts = namedContexts;
    this.context = context;
    this.inputs = inputs;
    this.buildId = buildId;
  }

  Action.Copy copy(CopyInstruction copy, String cwd, int line) {
    ExcludePatterns exclude = excludes(copy.excludes(), line);
    List<CopySource> sources = new ArrayList<>();
    for (String source : copy.files().sourcePaths()) {
      if (copy.hasFrom() && namedContexts.containsKey(copy.from())) {
        // --build-context NAME=DIR: selected like the main context, from that directory's manifest
        fromContext(namedContexts.get(copy.from()), source, copy.parents(), exclude, "COPY --from=" + copy.from(), line)
            .forEach(s -> sources.add(new CopySource.FromContext(s)));
      } else if (copy.hasFrom()) {
        InputPath path = inputs.path(Dependency.Kind.COPY_FROM, copy.from(), line, inputPath(source, copy.parents()));
        sources.add(new CopySource.FromInput(path));
      } else {
        fromContext(source, copy.parents(), exclude, "COPY", line).forEach(s -> sources.add(new CopySource.FromContext(s)));
      }
    }
    sources.addAll(inline(copy.files()));
    Chmod chmod = chmod(copy.chmod(), "COPY", line);
    return new Action.Copy(sources, dest(copy.files(), cwd), destIsDir(copy.files(), copy.parents()), copy.chown(),
        chmod.octal(), copy.excludes(), copy.parents(), copy.link(), Action.Unpack.NEVER, chmod.symbolic());
  }

  Action.Copy add(AddInstruction add, String cwd, int line) {
    ExcludePatterns exclude = excludes(add.excludes(), line);
    List<CopySource> sources = new ArrayList<>();
    for (String source : add.files().sourcePaths()) {
      switch (RemoteSource.of(source).orElse(null)) {
        case URL -> sources.add(new CopySource.Remote(source, add.checksum(), fileName(source),
            // without a checksum nobody can fingerprint the download: the key stays in this build
            add.checksum().isEmpty() ? buildId : ""));
        case GIT -> throw new DockerfileException(line, "ADD of a git repository is not supported by stagefarm");
        case null -> fromContext(source, false, exclude, "ADD", line).forEach(s -> sources.add(new CopySource.FromContext(s)));
      }
    }
    sources.addAll(inline(add.files()));
    Action.Unpack unpack = add.unpack() == null ? Action.Unpack.LOCAL
        : add.unpack() ? Action.Unpack.ALL : Action.Unpack.NEVER;
    Chmod chmod = chmod(add.chmod(), "ADD", line);
    return new Action.Copy(sources, dest(add.files(), cwd), destIsDir(add.files(), false), add.chown(),
        chmod.octal(), add.excludes(), false, add.link(), unpack, chmod.symbolic());
  }

  private List<ContextSelection> fromContext(String source, boolean parents, ExcludePatterns exclude, String keyword,
      int line) {
    return fromContext(context, source, parents, exclude, keyword, line);
  }

  private static List<ContextSelection> fromContext(ContextSelector context, String source, boolean parents,
      ExcludePatterns exclude, String keyword, int line) {
    try {
      return parents ? context.selectWithParents(source, exclude) : context.select(source, exclude);
    } catch (ContextSelector.SourceNotFoundException e) {
      throw new DockerfileException(line, keyword + " failed: " + e.getMessage());
    }
  }

  private static List<CopySource> inline(SourcesAndDest files) {
    List<CopySource> out = new ArrayList<>();
    for (SourceContent content : files.sourceContents()) {
      out.add(new CopySource.Inline(content.path(), content.data().getBytes(StandardCharsets.UTF_8)));
    }
    return out;
  }

  /** The destination, absolute with the working directory applied, without a trailing '/'. */
  private static String dest(SourcesAndDest files, String cwd) {
    String dest = PosixPaths.resolveDestination(cwd, files.destPath());
    return dest.length() > 1 && dest.endsWith("/") ? dest.substring(0, dest.length() - 1) : dest;
  }

  /**
   * Whether the Dockerfile makes the destination a directory: a trailing '/' (also "." and "x/."),
   * several sources, or --parents (which copies into it). A wildcard alone does not: BuildKit's
   * {@code COPY f*.go foo2.go} writes the one match to the file foo2.go.
   */
  private static boolean destIsDir(SourcesAndDest files, boolean parents) {
    String resolved = PosixPaths.resolveDestination("/", files.destPath());
    return parents || resolved.endsWith("/") || files.sourcePaths().size() + files.sourceContents().size() > 1;
  }

  /** A --from source as a clean absolute path in the input; with --parents its /./ pivot is kept. */
  static String inputPath(String source, boolean parents) {
    int pivot = parents ? source.indexOf("/./") : -1;
    if (pivot < 0) {
      return PosixPaths.clean("/" + source);
    }
    String base = PosixPaths.clean("/" + source.substring(0, pivot));
    return (base.equals("/") ? "" : base) + "/./" + ContextSelector.clean(source.substring(pivot + 3));
  }

  /** BuildKit names a download after the URL's last path element. */
  private static String fileName(String url) {
    try {
      String path = URI.create(url).getPath();
      String base = path == null ? "" : ContextTree.baseName(PosixPaths.clean(path));
      return base.isEmpty() || base.equals(".") || base.equals("/") ? "__unnamed__" : base;
    } catch (IllegalArgumentException e) {
      return "__unnamed__";
    }
  }

  private static ExcludePatterns excludes(List<String> patterns, int line) {
    try {
      return ExcludePatterns.of(patterns);
    } catch (IllegalArgumentException e) {
      throw new DockerfileException(line, e.getMessage(), e);
    }
  }

  /** --chmod as BuildKit's dispatchCopy reads it: octal when it starts with a digit, else symbolic. */
  record Chmod(OptionalInt octal, Optional<SymbolicMode> symbolic) {
    static final Chmod NONE = new Chmod(OptionalInt.empty(), Optional.empty());
  }

  /**
   * @throws DockerfileException for a value that is neither: BuildKit's octal message for one that
   *     starts with a digit, its {@code invalid syntax} for the rest
   */
  static Chmod chmod(String chmod, String keyword, int line) {
    if (chmod.isEmpty()) {
      return Chmod.NONE;
    }
    if (Character.isDigit(chmod.charAt(0))) {
      try {
        int mode = chmod.chars().allMatch(Character::isDigit) ? Integer.parseInt(chmod, 8) : -1;
        if (mode >= 0 && mode <= 07777) {
          return new Chmod(OptionalInt.of(mode), Optional.empty());
        }
      } catch (NumberFormatException e) {
        // an 8 or 9, or too long: the same message as BuildKit's
      }
      throw new DockerfileException(line,
          "invalid chmod parameter: '" + chmod + "'. it should be octal string and between 0 and 07777");
    }
    try {
      return new Chmod(OptionalInt.empty(), Optional.of(SymbolicMode.parse(chmod)));
    } catch (IllegalArgumentException e) {
      throw new DockerfileException(line, keyword + " --chmod=" + chmod + ": " + e.getMessage(), e);
    }
  }
}
