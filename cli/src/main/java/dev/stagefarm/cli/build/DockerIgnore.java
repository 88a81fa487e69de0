package dev.stagefarm.cli.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code .dockerignore} rules with Docker's semantics: patterns in Go {@code filepath.Match}
 * syntax plus {@code **}, matched against the path or any of its parent directories; the last
 * matching rule wins, and {@code !} re-includes.
 */
public final class DockerIgnore {
  private record Rule(Pattern pattern, boolean exclude) {}

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

  public static DockerIgnore parse(String text) {
    List<Rule> rules = new ArrayList<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      boolean include = line.startsWith("!");
      if (include) {
        line = line.substring(1).strip();
      }
      String cleaned = clean(line);
      if (cleaned.isEmpty()) {
        continue;
      }
      rules.add(new Rule(toRegex(cleaned), !include));
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

  private static boolean matchesSelfOrParent(Pattern pattern, String path) {
    String candidate = path;
    while (true) {
      if (pattern.matcher(candidate).matches()) {
        return true;
      }
      int slash = candidate.lastIndexOf('/');
      if (slash < 0) {
        return false;
      }
      candidate = candidate.substring(0, slash);
    }
  }

  private static String clean(String pattern) {
    String p = pattern.replace('\\', '/');
    List<String> parts = new ArrayList<>();
    for (String part : p.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (!parts.isEmpty()) {
          parts.remove(parts.size() - 1);
        }
        continue;
      }
      parts.add(part);
    }
    return String.join("/", parts);
  }

  private static Pattern toRegex(String pattern) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c == '*' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
        i++;
        if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '/') {
          i++;
          regex.append("(?:.*/)?");
        } else {
          regex.append(".*");
        }
      } else if (c == '*') {
        regex.append("[^/]*");
      } else if (c == '?') {
        regex.append("[^/]");
      } else if (c == '[') {
        int end = pattern.indexOf(']', i + 1);
        if (end < 0) {
          regex.append("\\[");
        } else {
          String body = pattern.substring(i + 1, end);
          regex.append('[').append(body.startsWith("!") ? "^" + body.substring(1) : body).append(']');
          i = end;
        }
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }
}
