package dev.stagefarm.dockerfile.shell;

import static dev.stagefarm.dockerfile.shell.CodePointScanner.EOF;
import static dev.stagefarm.dockerfile.shell.ShellPattern.codePointString;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One run of the lexer over one word (BuildKit's {@code shellWord}): a recursive-descent reader that
 * expands {@code $} references, removes quotes and escapes, and collects words at the same time.
 * Not reusable and not shared between threads; {@link ShellLex} makes one per call.
 */
final class WordExpansion {
  /**
   * How deep {@code ${…}} may nest. BuildKit has no limit (Go stacks grow); ours is the call
   * stack, and a hostile Dockerfile of a few thousand nested {@code ${a:-${a:-…}}} would overflow
   * it on whatever thread expands it. Real Dockerfiles nest a handful of levels.
   */
  static final int MAX_NESTING = ExpansionTooDeepException.MAX_NESTING;

  private final ShellLex lex;
  private final Map<String, String> env;
  private final CodePointScanner scanner;
  private final Set<String> matched = new HashSet<>();
  private final Set<String> unmatched = new HashSet<>();
  private boolean rawEscapes;
  private int nesting;

  WordExpansion(ShellLex lex, String word, Map<String, String> env) {
    this.lex = lex;
    this.env = env;
    this.scanner = new CodePointScanner(word);
    this.rawEscapes = lex.rawEscapes();
  }

  /** Expands the whole word; throws {@link ExpansionFailure} on the first problem. */
  ProcessResult run() {
    Expanded expanded = processUntil(EOF, rawEscapes);
    return new ProcessResult(expanded.text(), expanded.words(), matched, unmatched);
  }

  private record Expanded(String text, List<String> words) {}

  /** Reads up to (and consuming) {@code stop}, or to the end when {@code stop} is {@code EOF}. */
  private Expanded processUntil(int stop, boolean keepEscapes) {
    StringBuilder text = new StringBuilder();
    WordSplitter words = new WordSplitter();
    boolean outerRawEscapes = rawEscapes;
    rawEscapes = keepEscapes;
    try {
      while (scanner.peek() != EOF) {
        int ch = scanner.peek();
        if (stop != EOF && ch == stop) {
          scanner.next();
          return new Expanded(text.toString(), words.finish());
        }
        if (ch == '$') {
          String value = processDollar();
          text.append(value);
          words.addSplitting(value);
        } else if (!lex.skipProcessQuotes() && (ch == '\'' || ch == '"')) {
          String quoted = ch == '\'' ? processSingleQuote() : processDoubleQuote();
          text.append(quoted);
          words.addRaw(quoted);
        } else if (ch == '<') {
          // The text is unchanged; only the words differ: blanks after << stay in the word.
          String redirect = processPossibleHeredoc();
          text.append(redirect);
          words.addRaw(redirect);
        } else {
          ch = scanner.next();
          if (ch == lex.escapeToken()) {
            if (rawEscapes) {
              words.addRaw(ch);
              text.appendCodePoint(ch);
            }
            // The escape token escapes any character; at the very end it is dropped.
            ch = scanner.next();
            if (ch == EOF) {
              break;
            }
            words.addRaw(ch);
          } else {
            words.add(ch);
          }
          text.appendCodePoint(ch);
        }
      }
      if (stop != EOF) {
        throw new ExpansionFailure(
            "unexpected end of statement while looking for matching " + codePointString(stop));
      }
      return new Expanded(text.toString(), words.finish());
    } finally {
      rawEscapes = outerRawEscapes;
    }
  }

  /** Everything up to the next single quote, literally; there is no way to escape a quote. */
  private String processSingleQuote() {
    StringBuilder text = new StringBuilder();
    int ch = scanner.next();
    if (lex.rawQuotes()) {
      text.appendCodePoint(ch);
    }
    while (true) {
      ch = scanner.next();
      if (ch == EOF) {
        throw new ExpansionFailure(
            "unexpected end of statement while looking for matching single-quote");
      }
      if (ch == '\'') {
        if (lex.rawQuotes()) {
          text.appendCodePoint(ch);
        }
        return text.toString();
      }
      text.appendCodePoint(ch);
    }
  }

  /**
   * Up to the next unescaped double quote, expanding {@code $}; the escape token escapes only
   * {@code "}, {@code $} and itself and is kept before anything else.
   */
  private String processDoubleQuote() {
    StringBuilder text = new StringBuilder();
    int ch = scanner.next();
    if (lex.rawQuotes()) {
      text.appendCodePoint(ch);
    }
    while (true) {
      int next = scanner.peek();
      if (next == EOF) {
        throw new ExpansionFailure(
            "unexpected end of statement while looking for matching double-quote");
      }
      if (next == '"') {
        ch = scanner.next();
        if (lex.rawQuotes()) {
          text.appendCodePoint(ch);
        }
        return text.toString();
      }
      if (next == '$') {
        text.append(processDollar());
        continue;
      }
      ch = scanner.next();
      if (ch == lex.escapeToken()) {
        if (rawEscapes) {
          text.appendCodePoint(ch);
        }
        int escaped = scanner.peek();
        if (escaped == EOF) {
          continue; // the loop reports the missing quote
        }
        if (escaped == '"' || escaped == '$' || escaped == lex.escapeToken()) {
          ch = scanner.next();
        }
      }
      text.appendCodePoint(ch);
    }
  }

  /**
   * BuildKit's {@code processPossibleHeredoc}: a {@code <}, or {@code <<} with the spaces, tabs
   * and carriage returns after it, as one unsplittable piece, so that {@code <<  EOF} is one word
   * (which heredoc detection then reads as {@code EOF}). {@code <<-  EOF} splits as usual: only
   * blanks right after {@code <<} are kept.
   */
  private String processPossibleHeredoc() {
    scanner.next();
    if (scanner.peek() != '<') {
      return "<";
    }
    scanner.next();
    StringBuilder redirect = new StringBuilder("<<");
    while (isHeredocBlank(scanner.peek())) {
      redirect.appendCodePoint(scanner.next());
    }
    return redirect.toString();
  }

  private static boolean isHeredocBlank(int ch) {
    return ch == ' ' || ch == '\t' || ch == '\r';
  }

  /** A {@code $} reference: {@code $NAME}, {@code ${NAME}} or {@code ${NAME<modifier>...}}. */
  private String processDollar() {
    scanner.next();
    if (scanner.peek() != '{') {
      String name = processName();
      if (name.isEmpty()) {
        return "$";
      }
      Lookup variable = lookup(name);
      return !variable.set() && lex.skipUnsetEnv() ? "$" + name : variable.value();
    }
    scanner.next();
    if (nesting >= MAX_NESTING) {
      throw new ExpansionFailure(ExpansionTooDeepException.REASON, true);
    }
    nesting++;
    try {
      return processBraced();
    } finally {
      nesting--;
    }
  }

  /** The rest of a {@code ${…}} reference, after the brace. */
  private String processBraced() {
    int first = scanner.peek();
    if (first == EOF) {
      throw new ExpansionFailure("syntax error: missing '}'");
    }
    if (first == '{' || first == '}' || first == ':') {
      throw new ExpansionFailure("syntax error: bad substitution");
    }
    String name = processName();
    int modifier = scanner.next();
    return switch (modifier) {
      // BuildKit reports "unsupported modifier (\uFFFD)" here; a missing brace is the real cause.
      case EOF -> throw new ExpansionFailure("syntax error: missing '}'");
      case '}' -> {
        Lookup variable = lookup(name);
        yield !variable.set() && lex.skipUnsetEnv() ? "${" + name + "}" : variable.value();
      }
      case ':', '+', '-', '?', '#', '%' -> processModifier(name, modifier);
      case '/' -> processReplace(name);
      default -> throw unsupportedModifier(codePointString(modifier));
    };
  }

  /** {@code ${NAME:-w}}, {@code ${NAME-w}}, {@code +}, {@code ?}, {@code #}, {@code %} forms. */
  private String processModifier(String name, int firstModifierChar) {
    int modifier = firstModifierChar;
    String modifierText = codePointString(modifier);
    boolean emptyIsUnset = false;
    if (modifier == ':') {
      emptyIsUnset = true;
      modifier = scanner.next();
      modifierText += codePointString(modifier);
    }
    boolean pattern = modifier == '#' || modifier == '%';
    if (emptyIsUnset && pattern) {
      throw unsupportedModifier(modifierText);
    }
    // Patterns keep their escapes: the pattern matcher needs \* apart from *.
    String word = readUntilClosingBrace('}', pattern, "syntax error: missing '}'");

    Lookup variable = lookup(name);
    if (lex.skipUnsetEnv() && !variable.set()) {
      return "${" + name + modifierText + word + "}";
    }
    boolean unset = !variable.set() || (emptyIsUnset && variable.value().isEmpty());
    return switch (modifier) {
      case '-' -> unset ? word : variable.value();
      case '+' -> unset ? "" : word;
      case '?' -> {
        if (!variable.set()) {
          throw new ExpansionFailure(
              name + ": " + (word.isEmpty() ? "is not allowed to be unset" : word));
        }
        if (unset) {
          throw new ExpansionFailure(
              name + ": " + (word.isEmpty() ? "is not allowed to be empty" : word));
        }
        yield variable.value();
      }
      case '#', '%' -> {
        // A doubled modifier (## or %%) asks for the longest match.
        boolean greedy = !word.isEmpty() && word.charAt(0) == modifier;
        String patternText = greedy ? word.substring(1) : word;
        yield modifier == '%'
            ? ShellPattern.trimSuffix(patternText, variable.value(), greedy)
            : ShellPattern.trimPrefix(patternText, variable.value(), greedy);
      }
      default -> throw unsupportedModifier(modifierText);
    };
  }

  /** {@code ${NAME/pattern/replacement}} and {@code ${NAME//pattern/replacement}}. */
  private String processReplace(String name) {
    boolean replaceAll = scanner.peek() == '/';
    if (replaceAll) {
      scanner.next();
    }
    String pattern = readUntilClosingBrace('/', true, "syntax error: missing '/' in ${}");
    String replacement = readUntilClosingBrace('}', true, "syntax error: missing '}'");

    Lookup variable = lookup(name);
    if (lex.skipUnsetEnv() && !variable.set()) {
      return "${" + name + "/" + pattern + "/" + replacement + "}";
    }
    return replaceAll
        ? ShellPattern.replaceAll(pattern, variable.value(), replacement)
        : ShellPattern.replaceFirst(pattern, variable.value(), replacement);
  }

  /** A nested word up to {@code stop}; running out of input is reported as {@code missing}. */
  private String readUntilClosingBrace(int stop, boolean keepEscapes, String missing) {
    try {
      return processUntil(stop, keepEscapes).text();
    } catch (ExpansionFailure failure) {
      if (scanner.peek() == EOF) {
        throw new ExpansionFailure(missing);
      }
      throw failure;
    }
  }

  /**
   * A variable name: letters, digits and {@code _}; or a run of digits (a positional parameter);
   * or one special parameter character. Empty when none of these follows.
   */
  private String processName() {
    StringBuilder name = new StringBuilder();
    while (scanner.peek() != EOF) {
      int ch = scanner.peek();
      if (name.isEmpty() && Character.isDigit(ch)) {
        while (scanner.peek() != EOF && Character.isDigit(scanner.peek())) {
          name.appendCodePoint(scanner.next());
        }
        return name.toString();
      }
      if (name.isEmpty() && isSpecialParameter(ch)) {
        return codePointString(scanner.next());
      }
      if (!Character.isLetter(ch) && !Character.isDigit(ch) && ch != '_') {
        break;
      }
      name.appendCodePoint(scanner.next());
    }
    return name.toString();
  }

  /** POSIX special parameters; a Dockerfile never sets them, so they expand to nothing. */
  private static boolean isSpecialParameter(int ch) {
    return switch (ch) {
      case '@', '*', '#', '?', '-', '$', '!', '0' -> true;
      default -> false;
    };
  }

  private record Lookup(String value, boolean set) {}

  /** Looks a name up (case-sensitively, as BuildKit on Linux) and records whether it was set. */
  private Lookup lookup(String name) {
    if (env.containsKey(name)) {
      matched.add(name);
      String value = env.get(name);
      return new Lookup(value == null ? "" : value, true);
    }
    unmatched.add(name);
    return new Lookup("", false);
  }

  private static ExpansionFailure unsupportedModifier(String modifier) {
    return new ExpansionFailure("unsupported modifier (" + modifier + ") in substitution");
  }
}
