package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.shell.ShellLex;
import java.util.List;
import java.util.Map;

/**
 * A {@link WordExpander} over BuildKit's shell lexer and a fixed set of variables.
 *
 * @param lexer the lexer with the Dockerfile's escape token
 * @param env the variables in scope (a key with an empty value is set)
 */
public record ShellWordExpander(ShellLex lexer, Map<String, String> env) implements WordExpander {

  // BuildKit expands heredoc bodies with a fresh lexer: backslash escape, quotes kept.
  private static final ShellLex RAW = new ShellLex('\\').withSkipProcessQuotes(true);

  public ShellWordExpander {
    env = Map.copyOf(env);
  }

  @Override
  public String word(String word) {
    return lexer.processWord(word, env);
  }

  @Override
  public List<String> words(String word) {
    return lexer.processWords(word, env);
  }

  @Override
  public String heredoc(String body) {
    return RAW.processWord(body, env);
  }
}
