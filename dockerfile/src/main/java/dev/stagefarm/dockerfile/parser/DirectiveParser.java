package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.internal.GoText;

import dev.stagefarm.dockerfile.DockerfileException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads parser directives ({@code # syntax=}, {@code # escape=}, {@code # check=}) with
 * BuildKit's quirks: they are only recognised at the very top, the first line that is not a
 * valid directive (a blank line, an ordinary comment, an unknown key, an instruction) ends the
 * scan for good, and a repeated key is an error.
 *
 * <p>A parser is stateful: feed it the file's lines in order with {@link #parseLine}.
 */
public final class DirectiveParser {

  /** {@code ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$} with Go's {@code \s} and {@code .}. */
  private static final Pattern DIRECTIVE = Pattern.compile(
      "^([a-zA-Z][a-zA-Z0-9]*)[\\t\\n\\f\\r ]*=[\\t\\n\\f\\r ]*([^\\n]+?)[\\t\\n\\f\\r ]*\\z");

  private static final Set<String> KNOWN = Set.of("syntax", "escape", "check");

  private final String commentPrefix;
  private final Set<String> seen = new HashSet<>();
  private int line;
  private boolean done;

  /** A parser for {@code #} directives starting at line 1. */
  public DirectiveParser() {
    this("#", 0);
  }

  private DirectiveParser(String commentPrefix, int linesBefore) {
    this.commentPrefix = commentPrefix;
    this.line = linesBefore;
  }

  /**
   * Looks at the next line of the file (without its newline). Returns the directive it holds,
   * or empty when it holds none (then, and for every later line, scanning has ended).
   *
   * @throws DockerfileException for a key used twice
   */
  public Optional<Directive> parseLine(String text) {
    line++;
    if (done) {
      return Optional.empty();
    }
    if (!text.startsWith(commentPrefix)) {
      done = true;
      return Optional.empty();
    }
    Matcher m = DIRECTIVE.matcher(GoText.trimLeftSpace(text.substring(commentPrefix.length())));
    if (!m.find()) {
      done = true;
      return Optional.empty();
    }
    String key = GoText.toLower(m.group(1));
    if (!KNOWN.contains(key)) {
      done = true;
      return Optional.empty();
    }
    if (!seen.add(key)) {
      throw new DockerfileException(line, "only one " + key + " parser directive can be used");
    }
    return Optional.of(new Directive(key, m.group(2), line));
  }

  /** Whether a line has ended directive scanning. */
  public boolean isDone() {
    return done;
  }

  /** All directives at the top of {@code text} ({@code ParseAll}); stops at a repeated key. */
  public List<Directive> parseAll(String text) {
    List<Directive> found = new ArrayList<>();
    for (String l : scanLines(text)) {
      if (done) {
        break;
      }
      try {
        parseLine(l).ifPresent(found::add);
      } catch (DockerfileException e) {
        break;
      }
    }
    return found;
  }

  /**
   * BuildKit's {@code DetectSyntax}: the {@code syntax} directive written as {@code # syntax=},
   * {@code // syntax=} or a JSON object {@code {"syntax": "..."}}, after an optional BOM and
   * {@code #!} shebang line.
   */
  public static Optional<DetectedDirective> detectSyntax(String dockerfile) {
    return find("syntax", dockerfile, true);
  }

  /** BuildKit's {@code ParseDirective}: like {@link #detectSyntax} for any key, {@code #} form only. */
  public static Optional<DetectedDirective> parseDirective(String key, String dockerfile) {
    return find(key, dockerfile, false);
  }

  private static Optional<DetectedDirective> find(String key, String text, boolean anyFormat) {
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    int linesBefore = 0;
    int newline = text.indexOf('\n');
    String firstLine = newline < 0 ? text : text.substring(0, newline);
    if (firstLine.startsWith("#!")) {
      text = newline < 0 ? "" : text.substring(newline + 1);
      linesBefore = 1;
    }
    Optional<DetectedDirective> found = find(key, text, new DirectiveParser("#", linesBefore));
    if (found.isPresent() || !anyFormat) {
      return found;
    }
    found = find(key, text, new DirectiveParser("//", linesBefore));
    if (found.isPresent()) {
      return found;
    }
    try {
      if (GoJson.parse(text) instanceof Map<?, ?> object
          && object.get(key) instanceof String value) {
        return Optional.of(new DetectedDirective(value, value, linesBefore));
      }
    } catch (GoJson.SyntaxException e) {
      // not JSON either: no directive
    }
    return Optional.empty();
  }

  private static Optional<DetectedDirective> find(String key, String text, DirectiveParser p) {
    for (Directive d : p.parseAll(text)) {
      if (d.name().equals(key)) {
        int space = d.value().indexOf(' ');
        String ref = space < 0 ? d.value() : d.value().substring(0, space);
        return Optional.of(new DetectedDirective(ref, d.value(), d.line()));
      }
    }
    return Optional.empty();
  }

  /** Go's {@code bufio.ScanLines}: split on LF, drop one CR before it, no empty last line. */
  private static List<String> scanLines(String text) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    while (start < text.length()) {
      int nl = text.indexOf('\n', start);
      int end = nl < 0 ? text.length() : nl;
      String l = text.substring(start, end);
      if (l.endsWith("\r")) {
        l = l.substring(0, l.length() - 1);
      }
      lines.add(l);
      start = end + 1;
    }
    return lines;
  }
}
