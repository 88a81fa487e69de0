package dev.stagefarm.program;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Go-compatible path patterns: the one matcher for COPY/ADD sources ({@code filepath.Match}), and
 * for .dockerignore and --exclude (moby's patternmatcher: {@code **} crosses '/').
 *
 * <p>A pattern is parsed once into a list of terms and matched by simulating them as an NFA
 * (every live position advances together, one code point of the path at a time). That costs at
 * most (path length × pattern length) steps whatever the pattern, so a hostile pattern such as
 * {@code *a*a*a*a*b} cannot backtrack catastrophically, as it could through java.util.regex.
 *
 * <p><b>Errors.</b> {@link #compile} rejects every pattern Go's {@code filepath.Match} answers
 * {@code ErrBadPattern} for: an unclosed or empty class ({@code [}, {@code []}, {@code [^]}), a
 * class range with a missing or unescaped end ({@code [x-]}, {@code [-x]}, {@code [a-b-c]}), a
 * trailing {@code \}. Go checks the syntax on every call of {@code Match}, and before Go 1.16 only
 * as far as matching got (so {@code Match("a[", "x")} was false, not an error); the patternmatcher
 * learns of some errors only at its first match. We validate the whole pattern at compile, so an
 * error never depends on which path happened to be matched first.
 *
 * <p><b>Where {@link Syntax#PATTERN_MATCHER} differs from moby, on purpose.</b> Moby translates a
 * pattern into a Go regexp and so lets regexp syntax leak through: {@code \d} there is a digit
 * class and {@code [[:alpha:]]} a POSIX class, where {@code filepath.Match} reads a literal
 * {@code d} and a bracket list. We give both dialects {@code filepath.Match}'s meaning for escapes
 * and classes. What we keep from moby: the pattern is cleaned ({@code filepath.Clean}) and loses a
 * leading '/'; {@code **}, with or without a '/' after it, matches any run of path segments,
 * including none; a class range whose ends are reversed ({@code [z-a]}, fine for {@code filepath.Match},
 * rejected by Go's regexp) is an error; and moby's shortcut for a pattern that is {@code **}
 * followed only by literal text: it matches any path ending in that text, so {@code **foo}
 * matches {@code barfoo} as well as {@code a/foo}.
 */
public final class PathPattern {
  /** Which dialect a pattern is written in. */
  public enum Syntax {
    /** Go's {@code filepath.Match}: {@code *}, {@code ?}, {@code [...]}, {@code \\}; nothing crosses '/'. */
    FILEPATH_MATCH,
    /** moby/patternmatcher (.dockerignore, --exclude): also {@code **}, which matches any number of directories. */
    PATTERN_MATCHER
  }

  private static final int SEPARATOR = '/';

  /**
   * One NFA state. Epsilon moves go only forward (to the next state, or past a {@link DirsEntry}'s
   * loop), so one ascending sweep closes a state set.
   */
  private sealed interface Term {}

  /** Matches exactly this code point. */
  private record Literal(int codePoint) implements Term {}

  /** {@code ?}: one code point other than '/'. */
  private record AnyChar() implements Term {}

  /** {@code [...]}: one code point in (or, negated, outside) the ranges; '/' included, as in Go. */
  private record CharClass(boolean negated, int[] ranges) implements Term {
    boolean accepts(int c) {
      boolean in = false;
      for (int i = 0; i < ranges.length && !in; i += 2) {
        in = ranges[i] <= c && c <= ranges[i + 1];
      }
      return in != negated;
    }
  }

  /** {@code *}: any run of code points other than '/'. */
  private record Star() implements Term {}

  /** A {@code **} that ends the pattern: anything at all. */
  private record AnyString() implements Term {}

  /** A {@code **} inside a pattern (moby's regexp <code>(.*&#47;)?</code>): nothing, or anything ending in '/'. */
  private record DirsEntry() implements Term {}

  /** The loop of a {@link DirsEntry}: consumes anything, leaves after a '/'. */
  private record DirsLoop() implements Term {}

  private final String pattern;
  private final Term[] terms;
  /** The pattern's text when it has no wildcards at all: then matching is string equality. */
  private final String literal;

  private PathPattern(String pattern, List<Term> terms) {
    this.pattern = pattern;
    this.terms = terms.toArray(Term[]::new);
    this.literal = terms.stream().allMatch(t -> t instanceof Literal) ? literalText(terms) : null;
  }

  /** @throws IllegalArgumentException for a malformed pattern (Go's ErrBadPattern) */
  public static PathPattern compile(String pattern, Syntax syntax) {
    String text = pattern;
    if (syntax == Syntax.PATTERN_MATCHER) {
      text = clean(pattern);
      // As moby's .dockerignore reader does: "/foo" means foo at the context root; "/" stays.
      if (text.length() > 1 && text.charAt(0) == '/') {
        text = text.substring(1);
      }
    }
    return new PathPattern(text, new Parser(text, syntax).parse());
  }

  /** Whether the whole '/'-separated, clean, relative {@code path} matches. */
  public boolean matches(String path) {
    if (literal != null) {
      return literal.equals(path);
    }
    boolean[] live = new boolean[terms.length + 1];
    boolean[] next = new boolean[terms.length + 1];
    live[0] = true;
    close(live);
    for (int i = 0; i < path.length(); ) {
      int c = path.codePointAt(i);
      i += Character.charCount(c);
      if (!step(live, c, next)) {
        return false;
      }
      boolean[] swap = live;
      live = next;
      next = swap;
      close(live);
    }
    return live[terms.length];
  }

  /** Moves every live state over {@code c} into {@code next}; false when none survives. */
  private boolean step(boolean[] live, int c, boolean[] next) {
    Arrays.fill(next, false);
    boolean any = false;
    for (int s = 0; s < terms.length; s++) {
      if (!live[s]) {
        continue;
      }
      int to =
          switch (terms[s]) {
            case Literal l -> l.codePoint() == c ? s + 1 : -1;
            case AnyChar a -> c != SEPARATOR ? s + 1 : -1;
            case CharClass k -> k.accepts(c) ? s + 1 : -1;
            case Star st -> c != SEPARATOR ? s : -1;
            case AnyString a -> s;
            case DirsEntry d -> -1; // only epsilon moves: close() entered its loop
            case DirsLoop d -> {
              if (c == SEPARATOR) {
                next[s + 1] = true;
              }
              yield s;
            }
          };
      if (to >= 0) {
        next[to] = true;
        any = true;
      }
    }
    return any;
  }

  /** Whether {@code pattern} has wildcards ({@code * ? [} or, outside Windows, {@code \\}). */
  public static boolean hasMeta(String pattern) {
    for (int i = 0; i < pattern.length(); i++) {
      switch (pattern.charAt(i)) {
        case '*', '?', '[', '\\' -> {
          return true;
        }
        default -> {}
      }
    }
    return false;
  }

  /** The pattern as matched: for {@link Syntax#PATTERN_MATCHER} cleaned and without a leading '/'. */
  @Override
  public String toString() {
    return pattern;
  }

  /** Adds the states reachable without consuming anything; epsilon moves only go forward. */
  private void close(boolean[] states) {
    for (int s = 0; s < terms.length; s++) {
      if (!states[s]) {
        continue;
      }
      switch (terms[s]) {
        case Star st -> states[s + 1] = true;
        case AnyString a -> states[s + 1] = true;
        case DirsEntry d -> {
          states[s + 1] = true;
          states[s + 2] = true;
        }
        default -> {}
      }
    }
  }

  private static String literalText(List<Term> terms) {
    StringBuilder text = new StringBuilder();
    for (Term t : terms) {
      text.appendCodePoint(((Literal) t).codePoint());
    }
    return text.toString();
  }

  /** Go's {@code path.Clean}: the shortest equivalent path by purely lexical processing. */
  static String clean(String path) {
    if (path.isEmpty()) {
      return ".";
    }
    boolean rooted = path.charAt(0) == '/';
    List<String> parts = new ArrayList<>();
    int leadingDotDots = 0;
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (parts.size() > leadingDotDots) {
          parts.remove(parts.size() - 1);
        } else if (!rooted) {
          // A relative path keeps the ".." it cannot resolve; "/.." is "/".
          parts.add(part);
          leadingDotDots++;
        }
        continue;
      }
      parts.add(part);
    }
    String joined = String.join("/", parts);
    if (rooted) {
      return "/" + joined;
    }
    return joined.isEmpty() ? "." : joined;
  }

  /** Reads a pattern with {@code filepath.Match}'s grammar, plus {@code **} for the patternmatcher. */
  private static final class Parser {
    private final String text;
    private final Syntax syntax;
    private final int[] cps;
    private int pos;

    Parser(String text, Syntax syntax) {
      this.text = text;
      this.syntax = syntax;
      this.cps = text.codePoints().toArray();
    }

    List<Term> parse() {
      List<Term> terms = new ArrayList<>();
      while (pos < cps.length) {
        int c = cps[pos];
        switch (c) {
          case '*' -> {
            if (syntax == Syntax.PATTERN_MATCHER && pos + 1 < cps.length && cps[pos + 1] == '*') {
              globstar(terms);
            } else {
              pos++;
              if (terms.isEmpty() || !(terms.getLast() instanceof Star)) {
                terms.add(new Star());
              }
            }
          }
          case '?' -> {
            pos++;
            terms.add(new AnyChar());
          }
          case '[' -> terms.add(charClass());
          case '\\' -> {
            if (pos + 1 == cps.length) {
              throw bad("it ends with an unescaped '\\'");
            }
            terms.add(new Literal(cps[pos + 1]));
            pos += 2;
          }
          default -> {
            pos++;
            terms.add(new Literal(c));
          }
        }
      }
      return terms;
    }

    /** moby's {@code **}: the two stars and a '/' after them are one term. */
    private void globstar(List<Term> terms) {
      boolean first = pos == 0;
      pos += 2;
      if (pos < cps.length && cps[pos] == '/') {
        pos++;
      }
      if (pos == cps.length || (first && cps[pos - 1] != '/' && literalFrom(pos))) {
        // At the end, ** is anything; moby matches "**" + literal text as a plain suffix.
        terms.add(new AnyString());
      } else {
        terms.add(new DirsEntry());
        terms.add(new DirsLoop());
      }
    }

    /** Whether nothing from {@code from} on would make moby compile a regexp. */
    private boolean literalFrom(int from) {
      for (int i = from; i < cps.length; i++) {
        switch (cps[i]) {
          case '*', '?', '[', ']', '\\' -> {
            return false;
          }
          default -> {}
        }
      }
      return true;
    }

    /** {@code [...]} with Go's rules: '^' negates; ']' and '-' only escaped; non-empty. */
    private CharClass charClass() {
      pos++;
      boolean negated = pos < cps.length && cps[pos] == '^';
      if (negated) {
        pos++;
      }
      List<Integer> ranges = new ArrayList<>();
      while (true) {
        if (pos < cps.length && cps[pos] == ']' && !ranges.isEmpty()) {
          pos++;
          break;
        }
        int lo = classChar();
        int hi = lo;
        if (cps[pos] == '-') {
          pos++;
          hi = classChar();
        }
        if (lo > hi && syntax == Syntax.PATTERN_MATCHER) {
          // filepath.Match takes an empty range; moby's regexp refuses it (moby/moby#52203).
          throw bad("the class range " + Character.toString(lo) + "-" + Character.toString(hi) + " is reversed");
        }
        ranges.add(lo);
        ranges.add(hi);
      }
      return new CharClass(negated, ranges.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Go's getEsc: one possibly escaped class character, which something must follow. */
    private int classChar() {
      if (pos == cps.length) {
        throw bad("a character class is not closed");
      }
      if (cps[pos] == '-' || cps[pos] == ']') {
        throw bad("'" + (char) cps[pos] + "' in a character class must be escaped");
      }
      if (cps[pos] == '\\') {
        pos++;
        if (pos == cps.length) {
          throw bad("it ends with an unescaped '\\'");
        }
      }
      int c = cps[pos++];
      if (c <= Character.MAX_VALUE && Character.isSurrogate((char) c)) {
        throw bad("a character class holds an unpaired surrogate"); // Go: invalid UTF-8
      }
      if (pos == cps.length) {
        throw bad("a character class is not closed");
      }
      return c;
    }

    private IllegalArgumentException bad(String why) {
      return new IllegalArgumentException("syntax error in pattern \"" + text + "\": " + why);
    }
  }
}
