package dev.stagefarm.dockerfile.parser;

/**
 * A heredoc attached to a RUN, COPY or ADD instruction (BuildKit's {@code parser.Heredoc}).
 *
 * @param name the terminator word with quotes removed, e.g. {@code EOF} for {@code <<'EOF'}
 * @param content the body exactly as written, newline included; leading tabs are kept even when
 *     {@code chomp} is set (apply {@link Heredocs#chomp(String)} when consuming it)
 * @param expand whether variables in the body are expanded (false when any part of the
 *     terminator word was quoted)
 * @param chomp whether the heredoc was written {@code <<-WORD} (leading tabs are stripped)
 * @param fileDescriptor the fd prefix, e.g. 3 for {@code 3<<EOF}; 0 when absent
 */
public record Heredoc(String name, String content, boolean expand, boolean chomp, int fileDescriptor) {

  /** The same heredoc with its body set: the parser reads bodies after the instruction line. */
  Heredoc withContent(String body) {
    return new Heredoc(name, body, expand, chomp, fileDescriptor);
  }
}
