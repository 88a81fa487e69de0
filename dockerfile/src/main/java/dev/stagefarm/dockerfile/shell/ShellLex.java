package dev.stagefarm.dockerfile.shell;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * BuildKit's shell lexer ({@code shell.Lex}): expands variables in a Dockerfile word and removes
 * its quotes, optionally splitting it into words, with BuildKit's exact rules and error messages.
 *
 * <h2>What a word may contain</h2>
 *
 * <ul>
 *   <li>{@code $NAME} and {@code ${NAME}}: a name is letters, digits and {@code _}. {@code $1},
 *       {@code ${999}} and the special parameters {@code $@ $* $# $? $- $$ $! $0} are looked up
 *       like names and, never being set, expand to nothing. A {@code $} before anything else (or
 *       at the end) stays a literal {@code $}.
 *   <li>{@code ${V:-w}} / {@code ${V-w}}: w if V is unset or empty / unset; else V.
 *   <li>{@code ${V:+w}} / {@code ${V+w}}: w if V is set and not empty / set; else nothing.
 *   <li>{@code ${V:?msg}} / {@code ${V?msg}}: fail with {@code V: msg} if V is unset or empty /
 *       unset (default messages {@code is not allowed to be unset}, {@code ... empty}).
 *   <li>{@code ${V#p}} / {@code ${V##p}}, {@code ${V%p}} / {@code ${V%%p}}: remove the shortest /
 *       longest prefix, suffix matching pattern p.
 *   <li>{@code ${V/p/r}} / {@code ${V//p/r}}: replace the first / every match of p with r.
 *   <li>Patterns know {@code *} (any string), {@code ?} (one character) and {@code \*}, {@code \?},
 *       {@code \\}; everything else, brackets included, is literal (BuildKit has no {@code [...]}).
 *   <li>Words inside {@code ${...}} are expanded recursively: {@code ${A:-${B:-x}}}.
 *   <li>Anything else after {@code ${NAME} } fails, e.g. {@code ${V:=w}} gives {@code unsupported
 *       modifier (:=) in substitution}; so do {@code ${}}, {@code ${:}}, a missing {@code }}.
 * </ul>
 *
 * <h2>Quotes and escapes</h2>
 *
 * Single quotes are literal. Double quotes expand {@code $}; inside them the escape token escapes
 * only {@code "}, {@code $} and itself and is kept before any other character. Unquoted, the escape
 * token escapes any character and is dropped, and at the very end it disappears. The escape token
 * is {@code \} or, under the {@code # escape=`} directive, a backtick. Pattern escapes
 * ({@code \*}) are always backslashes.
 *
 * <h2>Variables</h2>
 *
 * A key present in the map, even with an empty value, is set; an absent key is unset. Names are
 * case-sensitive (BuildKit on Linux).
 *
 * <h2>Use</h2>
 *
 * Instances are immutable and thread-safe; the {@code with...} methods return changed copies.
 */
public final class ShellLex {
  private final char escapeToken;
  private final boolean rawQuotes;
  private final boolean rawEscapes;
  private final boolean skipUnsetEnv;
  private final boolean skipProcessQuotes;

  /**
   * A lexer with the given escape token ({@code '\\'} by default in a Dockerfile, {@code '`'} when
   * the Dockerfile says {@code # escape=`}) and all options off.
   */
  public ShellLex(char escapeToken) {
    this(escapeToken, false, false, false, false);
  }

  private ShellLex(
      char escapeToken,
      boolean rawQuotes,
      boolean rawEscapes,
      boolean skipUnsetEnv,
      boolean skipProcessQuotes) {
    this.escapeToken = escapeToken;
    this.rawQuotes = rawQuotes;
    this.rawEscapes = rawEscapes;
    this.skipUnsetEnv = skipUnsetEnv;
    this.skipProcessQuotes = skipProcessQuotes;
  }

  /** BuildKit's {@code RawQuotes}: keep the quote characters in the result (still not splitting). */
  public ShellLex withRawQuotes(boolean keep) {
    return new ShellLex(escapeToken, keep, rawEscapes, skipUnsetEnv, skipProcessQuotes);
  }

  /** BuildKit's {@code RawEscapes}: keep escape tokens in the result. */
  public ShellLex withRawEscapes(boolean keep) {
    return new ShellLex(escapeToken, rawQuotes, keep, skipUnsetEnv, skipProcessQuotes);
  }

  /**
   * BuildKit's {@code SkipUnsetEnv}: leave references to unset variables as written ({@code $X},
   * {@code ${X}}, {@code ${X:-w}} with w expanded) instead of expanding them; BuildKit uses it to
   * expand build args in a RUN command while leaving the shell's own variables alone.
   */
  public ShellLex withSkipUnsetEnv(boolean skip) {
    return new ShellLex(escapeToken, rawQuotes, rawEscapes, skip, skipProcessQuotes);
  }

  /** BuildKit's {@code SkipProcessQuotes}: quotes are ordinary characters (no quote removal). */
  public ShellLex withSkipProcessQuotes(boolean skip) {
    return new ShellLex(escapeToken, rawQuotes, rawEscapes, skipUnsetEnv, skip);
  }

  public char escapeToken() {
    return escapeToken;
  }

  public boolean rawQuotes() {
    return rawQuotes;
  }

  public boolean rawEscapes() {
    return rawEscapes;
  }

  public boolean skipUnsetEnv() {
    return skipUnsetEnv;
  }

  public boolean skipProcessQuotes() {
    return skipProcessQuotes;
  }

  /**
   * BuildKit's {@code ProcessWord}: expands variables and removes quotes and escapes, keeping
   * whitespace as it is (one result, never split).
   *
   * @throws ShellExpansionException with BuildKit's message when the word is malformed
   */
  public String processWord(String word, Map<String, String> env) {
    return processWordWithMatches(word, env).result();
  }

  /**
   * BuildKit's {@code ProcessWords}: like {@link #processWord} and then split on whitespace. Text
   * that came from an unquoted expansion splits too ({@code a$V} with {@code V="b c"} gives
   * {@code [ab, c]}); quoted or escaped whitespace does not. Empty words are dropped, so {@code ""}
   * alone gives no word. As in BuildKit (for heredoc detection), the spaces, tabs and carriage
   * returns right after an unquoted, unescaped {@code <<} stay in its word: {@code cat <<  EOF}
   * gives {@code [cat, <<  EOF]}.
   *
   * @throws ShellExpansionException with BuildKit's message when the word is malformed
   */
  public List<String> processWords(String word, Map<String, String> env) {
    return processWordWithMatches(word, env).words();
  }

  /**
   * BuildKit's {@code ProcessWordWithMatches}: the expanded word, its split words, and which
   * variables were looked up and found or not found (e.g. to warn about an undefined ARG).
   *
   * @throws ShellExpansionException with BuildKit's message when the word is malformed
   */
  public ProcessResult processWordWithMatches(String word, Map<String, String> env) {
    Objects.requireNonNull(word, "word");
    try {
      return new WordExpansion(this, word, env == null ? Map.of() : env).run();
    } catch (ExpansionFailure failure) {
      if (failure.tooDeep()) {
        throw new ExpansionTooDeepException(word);
      }
      throw new ShellExpansionException(word, failure.getMessage());
    }
  }

  /**
   * BuildKit's {@code EnvsFromSlice}: a variable map from {@code NAME=value} entries, in order, a
   * later entry overriding an earlier one; an entry without {@code =} sets the name to empty.
   */
  public static Map<String, String> envFromList(List<String> entries) {
    Map<String, String> env = new LinkedHashMap<>();
    for (String entry : entries) {
      int equals = entry.indexOf('=');
      if (equals < 0) {
        env.put(entry, "");
      } else {
        env.put(entry.substring(0, equals), entry.substring(equals + 1));
      }
    }
    return env;
  }

  @Override
  public String toString() {
    return "ShellLex[escapeToken=" + escapeToken + ", rawQuotes=" + rawQuotes + ", rawEscapes="
        + rawEscapes + ", skipUnsetEnv=" + skipUnsetEnv + ", skipProcessQuotes="
        + skipProcessQuotes + "]";
  }
}
