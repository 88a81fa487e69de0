package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.shell.ShellExpansionException;
import dev.stagefarm.dockerfile.shell.ShellLex;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * BuildKit's heredoc helpers: recognising a heredoc word ({@code ParseHeredoc}), finding the
 * heredocs of an instruction line ({@code heredocsFromLine}) and removing leading tabs for
 * {@code <<-} ({@code ChompHeredocContent}). The instruction layer uses them to tell a COPY
 * source written as {@code <<EOF} from a path.
 */
public final class Heredocs {

  /** {@code ^(\d*)<<(-?)\s*([^<]*)$} with Go's ASCII {@code \d} and {@code \s}. */
  private static final Pattern HEREDOC_WORD =
      Pattern.compile("^([0-9]*)<<(-?)[\\t\\n\\f\\r ]*([^<]*)\\z");

  /**
   * BuildKit lexes heredoc words with {@code \\} as the escape token whatever the Dockerfile's
   * escape directive says, and with an empty environment where unset references stay as written.
   */
  private static final ShellLex WORD_LEXER = new ShellLex('\\').withSkipUnsetEnv(true);

  /** {@code heredocsFromLine}: quotes and escapes are kept so each word can be lexed again. */
  private static final ShellLex LINE_LEXER =
      WORD_LEXER.withRawQuotes(true).withRawEscapes(true);

  private static final Pattern LEADING_TABS =
      Pattern.compile("^\\t+", Pattern.MULTILINE | Pattern.UNIX_LINES);

  /** A heredoc word that cannot be read, e.g. {@code <<'EOF} (unterminated quote). */
  public static final class InvalidHeredocException extends Exception {
    InvalidHeredocException(String message) {
      super(message);
    }
  }

  private Heredocs() {}

  /**
   * Reads one word such as {@code <<EOF}, {@code 3<<-'EOF'} or {@code << EOF}. Returns empty when
   * the word is no heredoc (e.g. {@code <<}, {@code <<EOF sh}); the content is empty.
   */
  public static Optional<Heredoc> parse(String word) throws InvalidHeredocException {
    Matcher m = HEREDOC_WORD.matcher(word);
    if (!m.find()) {
      return Optional.empty();
    }
    int fd = fileDescriptor(m.group(1));
    boolean chomp = m.group(2).equals("-");
    String rest = m.group(3);
    if (rest.isEmpty()) {
      return Optional.empty();
    }
    try {
      // Lex the word with and without quotes: if quote counts differ, some part was quoted,
      // and a quoted terminator means the body is not expanded (as in sh).
      List<String> words = WORD_LEXER.processWords(rest, Map.of());
      if (words.size() != 1) {
        return Optional.empty();
      }
      List<String> raw = WORD_LEXER.withRawQuotes(true).processWords(rest, Map.of());
      if (raw.size() != words.size()) {
        throw new InvalidHeredocException(
            "internal lexing of heredoc produced inconsistent results: " + rest);
      }
      String name = words.get(0);
      boolean expand = quoteCount(name) == quoteCount(raw.get(0));
      return Optional.of(new Heredoc(name, "", expand, chomp, fd));
    } catch (ShellExpansionException e) {
      throw new InvalidHeredocException(e.getMessage());
    }
  }

  /** {@link #parse} for callers that treat an unreadable word as no heredoc. */
  public static Optional<Heredoc> parseOrEmpty(String word) {
    try {
      return parse(word);
    } catch (InvalidHeredocException e) {
      return Optional.empty();
    }
  }

  /**
   * The heredocs an instruction line opens, in order (bodies empty): the line is split into
   * words the way BuildKit's shell lexer does (quotes and escapes kept) and each word is tried.
   * A line that cannot be lexed opens none.
   */
  public static List<Heredoc> fromLine(String line) throws InvalidHeredocException {
    List<String> words;
    try {
      words = LINE_LEXER.processWords(line, Map.of());
    } catch (dev.stagefarm.dockerfile.shell.ExpansionTooDeepException e) {
      // BuildKit (no limit) would find the heredocs; saying why beats reading the body as instructions
      throw new InvalidHeredocException(e.getMessage());
    } catch (ShellExpansionException e) {
      return List.of();
    }
    List<Heredoc> docs = new ArrayList<>();
    for (String word : words) {
      parse(word).ifPresent(docs::add);
    }
    return docs;
  }

  /** Removes the leading tabs of every line, as {@code <<-} asks for. */
  public static String chomp(String content) {
    return LEADING_TABS.matcher(content).replaceAll("");
  }

  private static int fileDescriptor(String digits) {
    if (digits.isEmpty()) {
      return 0;
    }
    try {
      return Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE; // Go saturates too; no real fd is this large
    }
  }

  private static long quoteCount(String s) {
    return s.chars().filter(c -> c == '\'' || c == '"').count();
  }
}
