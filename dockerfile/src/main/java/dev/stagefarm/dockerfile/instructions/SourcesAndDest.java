package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.parser.Heredoc;
import dev.stagefarm.dockerfile.parser.Heredocs;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The sources and destination of COPY or ADD (BuildKit's {@code SourcesAndDest}).
 *
 * @param sourcePaths paths in the build context (or the {@code --from} stage/image), URLs or git
 *     refs for ADD, as written
 * @param sourceContents heredoc sources, in order
 * @param destPath the destination as written
 */
public record SourcesAndDest(
    List<String> sourcePaths, List<SourceContent> sourceContents, String destPath) {

  public SourcesAndDest {
    sourcePaths = List.copyOf(sourcePaths);
    sourceContents = List.copyOf(sourceContents);
  }

  /**
   * Splits the arguments of COPY/ADD: the last is the destination, heredoc words among the others
   * take their body from {@code heredocs}.
   */
  static SourcesAndDest parse(String command, List<String> args, List<Heredoc> heredocs) {
    String dest = args.get(args.size() - 1);
    // BuildKit's MustParseHeredoc: a word that is no heredoc, or cannot be lexed, is a path.
    if (Heredocs.parseOrEmpty(dest).isPresent()) {
      throw new IllegalArgumentException(command + " cannot accept a heredoc as a destination");
    }
    List<String> paths = new ArrayList<>();
    List<SourceContent> contents = new ArrayList<>();
    int nextHeredoc = 0;
    for (String src : args.subList(0, args.size() - 1)) {
      Optional<Heredoc> word = Heredocs.parseOrEmpty(src);
      if (word.isEmpty()) {
        paths.add(src);
        continue;
      }
      // The parser records heredocs in the order their words appear on the line.
      String name = word.get().name();
      Heredoc heredoc = nextHeredoc < heredocs.size() ? heredocs.get(nextHeredoc++) : null;
      if (heredoc == null || !heredoc.name().equals(name)) {
        heredoc = heredocs.stream().filter(h -> h.name().equals(name)).findFirst().orElse(null);
      }
      Heredoc source = heredoc == null ? word.get() : heredoc;
      String data = source.content();
      boolean expand = heredoc == null || heredoc.expand();
      contents.add(new SourceContent(name, source.chomp() ? Heredocs.chomp(data) : data, expand));
    }
    return new SourcesAndDest(paths, contents, dest);
  }

  /**
   * BuildKit's {@code Expand} + {@code ExpandRaw}: source paths and destination word by word,
   * heredoc bodies marked for expansion as raw text.
   */
  SourcesAndDest expand(WordExpander e) {
    List<SourceContent> contents = new ArrayList<>();
    for (SourceContent c : sourceContents) {
      contents.add(c.expand() ? new SourceContent(c.path(), e.heredoc(c.data()), true) : c);
    }
    return new SourcesAndDest(e.eachWord(sourcePaths), contents, e.word(destPath));
  }
}
