package dev.stagefarm.coordinator.cache;

import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Selects the context entries a COPY/ADD source names, the way Docker resolves sources: a path
 * (file, or directory with everything under it), {@code .} for the whole context, or a
 * {@code filepath.Match} glob ({@code *}, {@code ?}, {@code [...]}) whose matches are taken
 * with their subtrees.
 */
public final class ContextSelector {
  private final List<ContextEntry> entries;

  public ContextSelector(ContextManifest manifest) {
    this.entries = manifest.getEntriesList();
  }

  /** The entries the sources select, sorted by path, each once. Empty when nothing matches. */
  public List<ContextEntry> select(List<String> sources) {
    Map<String, ContextEntry> selected = new LinkedHashMap<>();
    for (String source : sources) {
      String path = normalize(source);
      if (path.isEmpty()) {
        entries.forEach(e -> selected.put(e.getPath(), e));
        continue;
      }
      List<String> roots = new ArrayList<>();
      if (hasWildcard(path)) {
        Pattern glob = globToRegex(path);
        for (ContextEntry entry : entries) {
          if (glob.matcher(entry.getPath()).matches()) {
            roots.add(entry.getPath());
          }
        }
      } else {
        roots.add(path);
      }
      for (String root : roots) {
        for (ContextEntry entry : entries) {
          String p = entry.getPath();
          if (p.equals(root) || p.startsWith(root + "/")) {
            selected.put(p, entry);
          }
        }
      }
    }
    return selected.values().stream()
        .sorted((a, b) -> a.getPath().compareTo(b.getPath()))
        .toList();
  }

  /** Strips leading "/", "./" and trailing "/" so sources compare with manifest paths. */
  static String normalize(String source) {
    String path = source.replace('\\', '/');
    while (path.startsWith("/") || path.startsWith("./")) {
      path = path.startsWith("/") ? path.substring(1) : path.substring(2);
    }
    while (path.endsWith("/") || path.endsWith("/.")) {
      path = path.endsWith("/") ? path.substring(0, path.length() - 1) : path.substring(0, path.length() - 2);
    }
    return path.equals(".") ? "" : path;
  }

  static boolean hasWildcard(String path) {
    return path.indexOf('*') >= 0 || path.indexOf('?') >= 0 || path.indexOf('[') >= 0;
  }

  /** Go's filepath.Match syntax as a regex: wildcards never cross '/'. */
  static Pattern globToRegex(String glob) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      switch (c) {
        case '*' -> regex.append("[^/]*");
        case '?' -> regex.append("[^/]");
        case '[' -> {
          int end = glob.indexOf(']', i + 1);
          if (end < 0) {
            regex.append("\\[");
          } else {
            String body = glob.substring(i + 1, end);
            if (body.startsWith("^")) {
              body = "^" + body.substring(1);
            }
            regex.append('[').append(body.replace("\\", "\\\\")).append(']');
            i = end;
          }
        }
        case '\\' -> {
          if (i + 1 < glob.length()) {
            regex.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
          }
        }
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }
}
