package dev.stagefarm.dockerfile.instructions;

import java.util.List;

/**
 * {@code COPY [--from=] [--chown=] [--chmod=] [--link] [--parents] [--exclude=]... src... dest}.
 *
 * @param files sources (paths, heredocs) and destination
 * @param from the stage name, stage index or image to copy from; empty for the build context.
 *     BuildKit does not expand variables here.
 * @param chown {@code --chown} value or empty
 * @param chmod {@code --chmod} value or empty
 * @param link {@code --link}
 * @param parents {@code --parents}
 * @param excludes {@code --exclude} patterns, in order
 */
public record CopyInstruction(
    Origin origin,
    SourcesAndDest files,
    String from,
    String chown,
    String chmod,
    boolean link,
    boolean parents,
    List<String> excludes)
    implements Instruction {

  public CopyInstruction {
    excludes = List.copyOf(excludes);
  }

  /** Whether the sources come from another stage or an image rather than the build context. */
  public boolean hasFrom() {
    return !from.isEmpty();
  }

  /**
   * Expands sources, destination, {@code --chown} and {@code --chmod}, and heredoc bodies that
   * allow it; rejects a source that expands to a URL or git ref.
   */
  @Override
  public CopyInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    CopyInstruction expanded =
        new CopyInstruction(
            origin, files.expand(e), from, e.word(chown), e.word(chmod), link, parents, excludes);
    expanded.checkSources();
    return expanded;
  }

  /**
   * Rejects URL and git sources, which only ADD accepts.
   *
   * @throws dev.stagefarm.dockerfile.DockerfileException {@code source can't be a URL for COPY}
   */
  public void checkSources() {
    for (String src : files.sourcePaths()) {
      RemoteSource.of(src)
          .ifPresent(
              kind -> {
                throw new dev.stagefarm.dockerfile.DockerfileException(
                    origin.line(), "source can't be a " + kind.describe() + " for COPY");
              });
    }
  }
}
