package dev.stagefarm.dockerfile.instructions;

/**
 * An inline source of COPY or ADD written as a heredoc (BuildKit's {@code SourceContent}).
 *
 * @param path the file name created in the destination: the heredoc's terminator word
 * @param data the file content, already chomped for {@code <<-EOF}
 * @param expand whether variables in {@code data} are expanded (the terminator was not quoted)
 */
public record SourceContent(String path, String data, boolean expand) {}
