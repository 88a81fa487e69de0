package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.internal.GoText;

import dev.stagefarm.dockerfile.DockerfileException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a Dockerfile into BuildKit's AST, with BuildKit's behaviour ({@code parser.Parse}):
 * parser directives at the top, comments, line continuations with the escape character, JSON
 * and shell forms, leading flags, heredocs, line ranges, the 65,535-byte line limit, and a
 * warning for empty continuation lines.
 *
 * <p>Deviations, all in error reporting: every error carries the 1-based line it is about
 * (BuildKit reports some one line early), a too-long line is reported even when no instruction
 * came before it, and "file with no instructions" has no line.
 */
public final class DockerfileParser {

  static final String EMPTY_CONTINUATION_DETAIL =
      "Empty continuation lines will become errors in a future release";

  private DockerfileParser() {}

  /** Parses Dockerfile text; throws {@link DockerfileException} naming the line on bad input. */
  public static ParseResult parse(String dockerfile) {
    return new Run(dockerfile).parse();
  }

  /** Parses UTF-8 bytes (a leading BOM is ignored). */
  public static ParseResult parse(byte[] dockerfile) {
    return parse(new String(dockerfile, StandardCharsets.UTF_8));
  }

  /** The state of one parse: the escape character can change while reading the directives. */
  private static final class Run {
    private final PhysicalLines lines;
    private final DirectiveParser directiveParser = new DirectiveParser();
    private final List<Directive> directives = new ArrayList<>();
    private final List<Warning> warnings = new ArrayList<>();
    private int escape = '\\';
    private Pattern continuation = continuationPattern('\\');

    Run(String text) {
      this.lines = new PhysicalLines(text);
    }

    ParseResult parse() {
      Node root = new Node("");
      List<String> comments = new ArrayList<>();
      while (lines.hasNext()) {
        String raw = lines.next();
        if (lines.lineNumber() == 1 && raw.startsWith("\uFEFF")) {
          raw = raw.substring(1);
        }
        if (isComment(raw)) {
          String comment = GoText.trimSpace(GoText.trimLeftSpace(raw).substring(1));
          if (comment.isEmpty()) {
            comments.clear();
          } else {
            comments.add(comment);
          }
        }
        String text = GoText.trimLeftSpace(trimNewline(raw));
        if (readDirective(text)) {
          comments.removeLast();
        }
        int startLine = lines.lineNumber();
        Continued first = trimContinuation(isComment(text) ? "" : text);
        if (first.complete() && first.text().isEmpty()) {
          continue;
        }
        StringBuilder logical = new StringBuilder(first.text());
        boolean complete = first.complete();
        boolean emptyContinuation = false;
        while (!complete && lines.hasNext()) {
          String next = lines.next();
          String content = trimNewline(next);
          readDirective(content);
          if (isComment(next)) {
            continue; // comments inside a continuation are skipped silently
          }
          if (GoText.trimLeftSpace(content).isEmpty()) {
            emptyContinuation = true;
            continue;
          }
          Continued c = trimContinuation(content);
          logical.append(c.text());
          complete = c.complete();
        }
        String line = logical.toString();
        if (emptyContinuation) {
          warnings.add(new Warning("Empty continuation line found in: " + line,
              EMPTY_CONTINUATION_DETAIL, startLine, lines.lineNumber()));
        }
        Node instruction;
        try {
          instruction = InstructionBuilder.build(line, escape, comments);
          if (instruction.canContainHeredoc() && line.contains("<<")) {
            readHeredocs(instruction, line, startLine);
          }
        } catch (SyntaxProblem e) {
          throw new DockerfileException(startLine, e.getMessage());
        } catch (StackOverflowError e) {
          // ONBUILD ONBUILD ... or ${a:-${b:-...}} thousands deep: Go's stacks grow, ours do not
          throw new DockerfileException(startLine, "instruction nested too deeply to parse");
        }
        root.addChild(instruction, startLine, lines.lineNumber());
        comments = new ArrayList<>();
      }
      if (root.children().isEmpty()) {
        throw new DockerfileException(0, "file with no instructions");
      }
      return new ParseResult(root, warnings, (char) escape, new Directives(directives));
    }

    /** Feeds a line to the directive scan; true when it was a directive. */
    private boolean readDirective(String text) {
      if (directiveParser.isDone()) {
        return false;
      }
      Optional<Directive> directive = directiveParser.parseLine(text);
      if (directive.isEmpty()) {
        return false;
      }
      Directive d = directive.get();
      if (d.name().equals("escape")) {
        if (!d.value().equals("`") && !d.value().equals("\\")) {
          throw new DockerfileException(d.line(),
              "invalid escape token '" + d.value() + "' does not match ` or \\");
        }
        escape = d.value().charAt(0);
        continuation = continuationPattern(escape);
      }
      directives.add(d);
      return true;
    }

    /** Reads the bodies of the heredocs the line opened, in order, each up to its terminator. */
    private void readHeredocs(Node instruction, String line, int startLine) {
      List<Heredoc> heredocs;
      try {
        heredocs = Heredocs.fromLine(line);
      } catch (Heredocs.InvalidHeredocException e) {
        throw new DockerfileException(startLine, e.getMessage());
      }
      for (Heredoc heredoc : heredocs) {
        StringBuilder body = new StringBuilder();
        boolean terminated = false;
        while (lines.hasNext()) {
          String raw = lines.next();
          String candidate = trimNewline(raw);
          if (heredoc.chomp()) {
            candidate = trimLeadingTabs(candidate);
          }
          if (candidate.equals(heredoc.name())) {
            terminated = true;
            break;
          }
          body.append(raw);
        }
        if (!terminated) {
          throw new DockerfileException(startLine,
              "unterminated heredoc: no line reads " + heredoc.name()
                  + " before the end of the file");
        }
        instruction.addHeredoc(heredoc.withContent(body.toString()));
      }
    }

    private record Continued(String text, boolean complete) {}

    /** Removes a trailing escape (and blanks after it) that continues the line. */
    private Continued trimContinuation(String text) {
      Matcher m = continuation.matcher(text);
      if (!m.find()) {
        return new Continued(text, true);
      }
      String kept = m.group(1) == null ? "" : m.group(1);
      return new Continued(text.substring(0, m.start()) + kept, false);
    }
  }

  private static final Pattern BACKSLASH_CONTINUATION = compileContinuation('\\');
  private static final Pattern BACKTICK_CONTINUATION = compileContinuation('`');

  private static Pattern continuationPattern(int escape) {
    return escape == '`' ? BACKTICK_CONTINUATION : BACKSLASH_CONTINUATION;
  }

  /**
   * {@code ([^E])E[ \t]*$|^E[ \t]*$}: an escape at the end continues the line unless it is
   * itself escaped ({@code foo\\} does not continue).
   */
  private static Pattern compileContinuation(int escape) {
    String e = Pattern.quote(Character.toString(escape));
    String notE = escape == '\\' ? "[^\\\\]" : "[^" + Character.toString(escape) + "]";
    return Pattern.compile("(" + notE + ")" + e + "[ \\t]*\\z|^" + e + "[ \\t]*\\z");
  }

  private static boolean isComment(String line) {
    return GoText.trimLeftSpace(line).startsWith("#");
  }

  private static String trimNewline(String s) {
    int end = s.length();
    while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
      end--;
    }
    return s.substring(0, end);
  }

  private static String trimLeadingTabs(String s) {
    int i = 0;
    while (i < s.length() && s.charAt(i) == '\t') {
      i++;
    }
    return s.substring(i);
  }
}
