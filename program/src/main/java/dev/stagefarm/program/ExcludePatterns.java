package dev.stagefarm.program;

import java.util.ArrayList;
import java.util.List;

/**
 * COPY/ADD {@code --exclude}, with the semantics of moby's patternmatcher as BuildKit's copy uses
 * it: patterns in order, {@code !} re-includes, and a path is matched by a pattern that matches it
 * or one of its parent directories. Paths are relative to what is copied (a match's contents, or
 * with {@code --parents} the path after the pivot). The coordinator applies it to context
 * selections, the worker to {@code --from} inputs: one implementation for both.
 */
public final class ExcludePatterns {
  public static final ExcludePatterns NONE = new ExcludePatterns(List.of());

  private record Rule(PathPattern pattern, boolean reinclude) {}

  private final List<Rule> rules;

  private ExcludePatterns(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** @throws IllegalArgumentException naming a malformed pattern */
  public static ExcludePatterns of(List<String> patterns) {
    List<Rule> rules = new ArrayList<>();
    for (String written : patterns) {
      String p = written.strip();
      if (p.isEmpty()) {
        continue;
      }
      p = PathPattern.clean(p);
      boolean reinclude = p.startsWith("!");
      if (reinclude) {
        if (p.length() == 1) {
          throw new IllegalArgumentException("illegal exclusion pattern: \"!\"");
        }
        p = p.substring(1);
      }
      try {
        rules.add(new Rule(PathPattern.compile(p, PathPattern.Syntax.PATTERN_MATCHER), reinclude));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid --exclude pattern \"" + written + "\": " + e.getMessage(), e);
      }
    }
    return new ExcludePatterns(rules);
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** Whether {@code path} (clean, relative, not empty) is left out. */
  public boolean excludes(String path) {
    boolean excluded = false;
    for (Rule rule : rules) {
      if (matchesOrParentMatches(rule.pattern(), path)) {
        excluded = !rule.reinclude();
      }
    }
    return excluded;
  }

  private static boolean matchesOrParentMatches(PathPattern pattern, String path) {
    if (pattern.matches(path)) {
      return true;
    }
    for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
      if (pattern.matches(path.substring(0, slash))) {
        return true;
      }
    }
    return false;
  }
}
