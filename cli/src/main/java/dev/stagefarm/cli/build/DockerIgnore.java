package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.program.PathPattern;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code .dockerignore} rules with Docker's semantics (moby's ignorefile and patternmatcher):
 * patterns in {@link PathPattern.Syntax#PATTERN_MATCHER} syntax, matched against the path or any
 * of its parent directories; the last matching rule wins, and {@code !} re-includes.
 */
public final class DockerIgnore {
  private record Rule(PathPattern pattern, boolean exclude) {}

  private final List<Rule> rules;

  private DockerIgnore(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static DockerIgnore none() {
    return new DockerIgnore(List.of());
  }

  /** Reads {@code contextDir/.dockerignore} when there is one. */
  public static DockerIgnore load(Path contextDir) throws IOException {
    Path file = contextDir.resolve(".dockerignore");
    return Files.isRegularFile(file) ? parse(Files.readString(file)) : none();
  }

  /** @throws UserError for a malformed pattern or a lone {@code !}, naming the line, as BuildKit refuses them */
  public static DockerIgnore parse(String text) {
    List<Rule> rules = new ArrayList<>();
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      String raw = i == 0 && lines[i].startsWith("\uFEFF") ? lines[i].substring(1) : lines[i];
      // Like moby's reader: a comment is a line starting with '#' before any trimming.
      if (raw.startsWith("#")) {
        continue;
      }
      String line = raw.strip();
      if (line.isEmpty()) {
        continue;
      }
      boolean include = line.startsWith("!");
      if (include) {
        line = line.substring(1).strip();
        if (line.isEmpty()) {
          throw new UserError(".dockerignore line " + (i + 1) + ": illegal exclusion pattern \"!\"");
        }
      }
      try {
        rules.add(new Rule(PathPattern.compile(line, PathPattern.Syntax.PATTERN_MATCHER), !include));
      } catch (IllegalArgumentException e) {
        throw new UserError(".dockerignore line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return new DockerIgnore(rules);
  }

  /** Whether {@code path} (relative, '/'-separated) is left out of the context. */
  public boolean ignores(String path) {
    boolean ignored = false;
    for (Rule rule : rules) {
      if (matchesSelfOrParent(rule.pattern(), path)) {
        ignored = rule.exclude();
      }
    }
    return ignored;
  }

  /** Whether a rule could re-include something under an ignored directory (then it must be walked). */
  public boolean hasExceptions() {
    return rules.stream().anyMatch(r -> !r.exclude());
  }

  private static boolean matchesSelfOrParent(PathPattern pattern, String path) {
    String candidate = path;
    while (true) {
      if (pattern.matches(candidate)) {
        return true;
      }
      int slash = candidate.lastIndexOf('/');
      if (slash < 0) {
        return false;
      }
      candidate = candidate.substring(0, slash);
    }
  }
}
