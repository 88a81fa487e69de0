package dev.stagefarm.coordinator.compile;

import dev.stagefarm.program.ExcludePatterns;
import dev.stagefarm.dockerfile.instructions.PosixPaths;
import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.PathPattern;
import dev.stagefarm.proto.v1.ContextManifest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Chooses the build-context entries a COPY/ADD source or a RUN bind mount names, as BuildKit's
 * copy does with the Dockerfile's options ({@code FollowSymlinks}, {@code AllowWildcard},
 * {@code AllowEmptyWildcard}, {@code CopyDirContentsOnly}):
 *
 * <ul>
 *   <li>a plain path is resolved with every symlink in it followed, inside the context ({@code
 *       COPY linkdir/inner.txt} reads through {@code linkdir}); a path that names nothing is an
 *       error;
 *   <li>a wildcard source ({@code filepath.Match}, nothing crosses '/') follows the symlinks of
 *       its literal prefix, matches the entries below it without following links, and may match
 *       nothing;
 *   <li>with {@code --parents}, the part after a {@code /./} pivot (the whole path without one) is
 *       an include pattern (patternmatcher: {@code **} crosses '/') under the part before it, and
 *       a match lands at its path below the pivot;
 *   <li>{@code --exclude} drops entries by their path below what is copied.
 * </ul>
 */
public final class ContextSelector {
  private final ContextTree tree;

  private ContextSelector(ContextTree tree) {
    this.tree = tree;
  }

  /** @throws IllegalArgumentException for a manifest with an unclean path */
  public static ContextSelector of(ContextManifest manifest) {
    return new ContextSelector(ContextTree.of(manifest));
  }

  /**
   * The matches of a COPY/ADD source, in the order BuildKit copies them; empty for a wildcard
   * that matches nothing.
   *
   * @throws SourceNotFoundException for a path (or a wildcard's literal prefix) that names nothing
   */
  List<ContextSelection> select(String source, ExcludePatterns exclude) {
    String path = clean(source);
    List<ContextSelection> out = new ArrayList<>();
    for (String match : matches(source, path)) {
      String resolved = resolve(source, match);
      ContextFile target = tree.entry(resolved).orElseThrow(() -> new SourceNotFoundException(source));
      String placeAt = target.isDirectory() ? "" : ContextTree.baseName(match);
      out.add(new ContextSelection(match, placeAt, filter(tree.subtree(resolved), "", exclude)));
    }
    return out;
  }

  /**
   * The matches of a COPY/ADD {@code --parents} source, each placed at its path below the pivot
   * (the context root without one); empty when a pattern with wildcards matches nothing.
   *
   * @throws SourceNotFoundException for a path without wildcards that names nothing
   */
  List<ContextSelection> selectWithParents(String source, ExcludePatterns exclude) {
    int pivot = source.indexOf("/./");
    String base = pivot < 0 ? "" : clean(source.substring(0, pivot));
    String pattern = clean(pivot < 0 ? source : source.substring(pivot + 3));
    boolean required = !PathPattern.hasMeta(base) && !PathPattern.hasMeta(pattern);
    List<ContextSelection> out = new ArrayList<>();
    if (pattern.isEmpty()) {
      // "x/./" copies x as the pivot's contents: the same as x without --parents
      return select(source.substring(0, pivot), exclude);
    }
    PathPattern include;
    try {
      include = PathPattern.compile(pattern, PathPattern.Syntax.PATTERN_MATCHER);
    } catch (IllegalArgumentException e) {
      throw new SourceNotFoundException(source);
    }
    for (String root : matches(source, base)) {
      String resolvedRoot = resolve(source, root);
      if (tree.entry(resolvedRoot).filter(ContextFile::isDirectory).isEmpty()) {
        continue;
      }
      for (String below : includedBelow(resolvedRoot, "", include)) {
        String match = join(resolvedRoot, below);
        List<ContextFile> entries = filter(tree.subtree(match), below + "/", exclude);
        // copied from the pivot, the match itself is below what is copied: --exclude can drop it
        if (exclude.excludes(below) && entries.size() == 1) {
          continue;
        }
        out.add(new ContextSelection(match, below, entries));
      }
    }
    if (out.isEmpty() && required) {
      throw new SourceNotFoundException(source);
    }
    return out;
  }

  /** What a {@code RUN --mount=type=bind} without {@code from=} sees at {@code source}, if it exists. */
  Optional<ContextSelection> mount(String source) {
    String path = clean(source);
    String resolved = resolve(source, path);
    if (tree.entry(resolved).isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new ContextSelection(path, "", tree.subtree(resolved)));
  }

  /** fsutil's ResolveWildcards: the path itself, or what its wildcard part matches below its literal prefix. */
  private List<String> matches(String source, String path) {
    List<String> components = ContextTree.components(path);
    int first = 0;
    while (first < components.size() && !PathPattern.hasMeta(components.get(first))) {
      first++;
    }
    if (first == components.size()) {
      if (tree.entry(resolve(source, path)).isEmpty()) {
        throw new SourceNotFoundException(source);
      }
      return List.of(path);
    }
    String base = resolve(source, String.join("/", components.subList(0, first)));
    ContextFile baseEntry = tree.entry(base).orElseThrow(() -> new SourceNotFoundException(source));
    List<String> wildcard = components.subList(first, components.size());
    if (!baseEntry.isDirectory()) {
      return List.of();
    }
    PathPattern glob;
    try {
      glob = PathPattern.compile(String.join("/", wildcard), PathPattern.Syntax.FILEPATH_MATCH);
    } catch (IllegalArgumentException e) {
      return List.of(); // Go's filepath.Match error is ignored there: a bad pattern matches nothing
    }
    List<String> out = new ArrayList<>();
    matchBelow(base, "", wildcard.size(), glob, out);
    return out;
  }

  /** filepath.Walk in name order, without following links; a matched directory is not entered. */
  private void matchBelow(String base, String relative, int depth, PathPattern glob, List<String> out) {
    for (ContextFile child : tree.list(join(base, relative))) {
      String rel = join(relative, ContextTree.baseName(child.path()));
      if (glob.matches(rel)) {
        out.add(child.path());
      } else if (child.isDirectory() && rel.split("/").length < depth) {
        matchBelow(base, rel, depth, glob, out);
      }
    }
  }

  /** The topmost entries below {@code root} an include pattern matches (their contents come with them). */
  private List<String> includedBelow(String root, String relative, PathPattern include) {
    List<String> out = new ArrayList<>();
    for (ContextFile child : tree.list(join(root, relative))) {
      String rel = join(relative, ContextTree.baseName(child.path()));
      if (include.matches(rel)) {
        out.add(rel);
      } else if (child.isDirectory()) {
        out.addAll(includedBelow(root, rel, include));
      }
    }
    return out;
  }

  /**
   * The entries {@code exclude} keeps; a directory it drops stays when something under it is
   * re-included, as the copy creates the parents of what it copies.
   */
  private static List<ContextFile> filter(List<ContextFile> entries, String prefix, ExcludePatterns exclude) {
    if (exclude.isEmpty()) {
      return entries;
    }
    Set<String> kept = new HashSet<>();
    for (ContextFile entry : entries) {
      if (entry.path().isEmpty() || !exclude.excludes(prefix + entry.path())) {
        String path = entry.path();
        while (kept.add(path) && !path.isEmpty()) {
          path = ContextTree.parent(path); // its parents stay with it
        }
      }
    }
    return entries.stream().filter(e -> kept.contains(e.path())).toList();
  }

  private String resolve(String source, String path) {
    try {
      return tree.resolve(path);
    } catch (ContextTree.SymlinkLoopException e) {
      throw new SourceNotFoundException(source, e.getMessage());
    }
  }

  /** A source as a clean path relative to the context root ({@code ""} for the root). */
  static String clean(String source) {
    String path = PosixPaths.clean("/" + source);
    return path.equals("/") ? "" : path.substring(1);
  }

  private static String join(String a, String b) {
    return a.isEmpty() ? b : b.isEmpty() ? a : a + "/" + b;
  }

  /** A source that names nothing in the build context. */
  static final class SourceNotFoundException extends RuntimeException {
    private final String source;

    SourceNotFoundException(String source) {
      this(source, "\"" + source + "\" not found in the build context");
    }

    SourceNotFoundException(String source, String message) {
      super(message);
      this.source = source;
    }

    String source() {
      return source;
    }
  }
}
