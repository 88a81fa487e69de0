package dev.stagefarm.dockerfile.instructions;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Recognises heredoc words ({@code <<EOF}, {@code <<-'EOF'}, {@code 3<<EOF}) in arguments. */
final class Heredocs {

  private static final Pattern HEREDOC_WORD = Pattern.compile("^(\\d*)<<(-?)([^<]*)$");
  private static final Pattern LEADING_TABS = Pattern.compile("(?m)^\\t+");

  private Heredocs() {}

  /** Whether an argument word introduces a heredoc (BuildKit's {@code MustParseHeredoc != nil}). */
  static boolean isHeredocWord(String word) {
    Matcher m = HEREDOC_WORD.matcher(word);
    return m.matches() && !m.group(3).isEmpty();
  }

  /** Whether a heredoc word was written {@code <<-WORD}. */
  static boolean isChomped(String word) {
    Matcher m = HEREDOC_WORD.matcher(word);
    return m.matches() && m.group(2).equals("-");
  }

  /** The terminator of a heredoc word with quotes removed, e.g. {@code EOF} for {@code <<'EOF'}. */
  static String name(String word) {
    Matcher m = HEREDOC_WORD.matcher(word);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a heredoc word: " + word);
    }
    return m.group(3).replace("\"", "").replace("'", "");
  }

  /** BuildKit's {@code ChompHeredocContent}: removes leading tabs from every line. */
  static String chomp(String content) {
    return LEADING_TABS.matcher(content).replaceAll("");
  }
}
