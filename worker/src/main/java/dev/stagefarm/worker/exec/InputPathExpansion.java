package dev.stagefarm.worker.exec;

import dev.stagefarm.program.PathPattern;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.RootfsPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Expands a {@code COPY --from} source path inside the input's root, as BuildKit does: Go
 * {@code filepath.Match} wildcards per component (a wildcard matching nothing is no error, a plain
 * path that is missing is), symlinks followed inside the root, and with {@code --parents} a
 * {@code /./} pivot: only the part after it is kept under the destination, and there (where
 * BuildKit matches with moby's patternmatcher) a {@code **} component matches any number of
 * directories, none included.
 */
final class InputPathExpansion {
  private InputPathExpansion() {}

  /**
   * One match.
   *
   * @param host where it is on the host
   * @param relative its path under the destination with --parents (after the pivot), and what
   *     --exclude patterns see
   */
  record Match(Path host, String relative) {}

  static List<Match> expand(Path root, String path, boolean parents, String inputName) throws IOException, UserError {
    int pivot = path.indexOf("/./");
    List<Match> matches = new ArrayList<>();
    if (parents && pivot >= 0) {
      for (Found base : expand(root, new Found(root, ""), components(path.substring(0, pivot)), false)) {
        if (Files.isDirectory(base.host())) {
          for (Found found : expand(root, base, components(path.substring(pivot + 3)), true)) {
            matches.add(new Match(found.host(), found.logical().substring(base.logical().length()).replaceFirst("^/", "")));
          }
        }
      }
    } else {
      for (Found found : expand(root, new Found(root, ""), components(path), parents)) {
        matches.add(new Match(found.host(), found.logical()));
      }
    }
    if (matches.isEmpty() && !PathPattern.hasMeta(path)) {
      throw new UserError("source \"" + path + "\" not found in " + inputName);
    }
    return matches;
  }

  /** A path found in the root: on the host, and as the container would name it (relative to the root). */
  private record Found(Path host, String logical) {}

  /** @param doubleStar whether a {@code **} component crosses directories */
  private static List<Found> expand(Path root, Found at, List<String> components, boolean doubleStar)
      throws IOException {
    if (components.isEmpty()) {
      return List.of(at);
    }
    String head = components.getFirst();
    List<String> rest = components.subList(1, components.size());
    List<Found> out = new ArrayList<>();
    if (doubleStar && head.equals("**")) {
      // none, or one more directory with ** still ahead (directories only, never through a symlink)
      out.addAll(expand(root, at, rest, true));
      if (Files.isDirectory(at.host(), LinkOption.NOFOLLOW_LINKS)) {
        List<String> names;
        try (Stream<Path> children = Files.list(at.host())) {
          names = children.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
              .map(p -> p.getFileName().toString()).sorted().toList();
        }
        for (String name : names) {
          String logical = join(at.logical(), name);
          out.addAll(expand(root, new Found(at.host().resolve(name), logical), components, true));
        }
      }
      return out.stream().distinct().toList();
    }
    if (!PathPattern.hasMeta(head)) {
      String logical = join(at.logical(), head);
      Path next = RootfsPaths.resolveLenient(root, logical); // symlinks resolve inside the input's root
      if (Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
        out.addAll(expand(root, new Found(next, logical), rest, doubleStar));
      }
      return out;
    }
    if (!Files.isDirectory(at.host(), LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    PathPattern pattern;
    try {
      pattern = PathPattern.compile(head, PathPattern.Syntax.FILEPATH_MATCH);
    } catch (IllegalArgumentException malformed) {
      return out; // Go's filepath.Glob: a malformed pattern matches nothing
    }
    List<String> names;
    try (Stream<Path> children = Files.list(at.host())) {
      names = children.map(p -> p.getFileName().toString()).sorted().toList();
    }
    for (String name : names) {
      if (pattern.matches(name)) {
        String logical = join(at.logical(), name);
        out.addAll(expand(root, new Found(RootfsPaths.resolveLenient(root, logical), logical), rest, doubleStar));
      }
    }
    return out;
  }

  private static List<String> components(String path) {
    List<String> out = new ArrayList<>();
    for (String part : path.split("/")) {
      if (!part.isEmpty() && !part.equals(".")) {
        out.add(part);
      }
    }
    return out;
  }

  private static String join(String relative, String name) {
    return relative.isEmpty() ? name : relative + "/" + name;
  }
}
