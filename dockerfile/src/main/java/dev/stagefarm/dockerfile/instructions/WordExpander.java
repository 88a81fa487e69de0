package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.DockerfileException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Expands variables in Dockerfile words with the environment in scope (BuildKit's
 * {@code SingleWordExpander}, backed by the shell lexer). See {@link ShellWordExpander}.
 */
public interface WordExpander {

  /** BuildKit {@code ProcessWord}: one word in, one word out; quotes are removed. */
  String word(String word);

  /** BuildKit {@code ProcessWords}: one word in, the fields it splits into. */
  List<String> words(String word);

  /**
   * Expansion of a heredoc body ({@code ExpandRaw}): variables are substituted but quotes and
   * other characters are kept as written.
   */
  String heredoc(String body);

  /** Expands each element with {@link #word(String)}. */
  default List<String> eachWord(List<String> words) {
    List<String> out = new ArrayList<>(words.size());
    for (String w : words) {
      out.add(word(w));
    }
    return List.copyOf(out);
  }

  /**
   * The same expander, with every failure reported as a {@link DockerfileException} at the line
   * of {@code origin}.
   */
  default WordExpander at(Origin origin) {
    WordExpander inner = this;
    return new WordExpander() {
      @Override
      public String word(String word) {
        return located(origin, () -> inner.word(word));
      }

      @Override
      public List<String> words(String word) {
        return located(origin, () -> inner.words(word));
      }

      @Override
      public String heredoc(String body) {
        return located(origin, () -> inner.heredoc(body));
      }
    };
  }

  private static <T> T located(Origin origin, Supplier<T> expansion) {
    try {
      return expansion.get();
    } catch (DockerfileException e) {
      throw e;
    } catch (RuntimeException e) {
      String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new DockerfileException(origin.line(), message, e);
    }
  }
}
