package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.parser.Heredoc;
import dev.stagefarm.dockerfile.parser.Heredocs;

/**
 * A heredoc of a RUN (BuildKit's {@code ShellInlineFile}).
 *
 * @param name the terminator word, e.g. {@code EOF}
 * @param data the body as written (leading tabs kept; see {@link #chompedData()})
 * @param chomp whether it was written {@code <<-EOF}: leading tabs are stripped when used
 */
public record InlineFile(String name, String data, boolean chomp) {

  /** The body as the shell sees it: leading tabs removed from every line when chomped. */
  public String chompedData() {
    return chomp ? Heredocs.chomp(data) : data;
  }

  static InlineFile of(Heredoc heredoc) {
    return new InlineFile(heredoc.name(), heredoc.content(), heredoc.chomp());
  }
}
