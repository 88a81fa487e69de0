package dev.stagefarm.dockerfile.instructions;

import java.util.List;

/**
 * {@code ADD [--chown=] [--chmod=] [--link] [--keep-git-dir] [--checksum=] [--exclude=]...
 * [--unpack] src... dest}: like COPY from the build context, plus URLs, git repositories and
 * local archive extraction.
 *
 * @param keepGitDir {@code --keep-git-dir}, or null when not written
 * @param checksum {@code --checksum} (e.g. {@code sha256:...}) or empty
 * @param unpack {@code --unpack}, or null when not written (then local archives are unpacked and
 *     remote ones are not)
 */
public record AddInstruction(
    Origin origin,
    SourcesAndDest files,
    String chown,
    String chmod,
    boolean link,
    Boolean keepGitDir,
    String checksum,
    List<String> excludes,
    Boolean unpack)
    implements Instruction {

  public AddInstruction {
    excludes = List.copyOf(excludes);
  }

  /** Expands sources, destination, {@code --chown}, {@code --chmod}, {@code --checksum}. */
  @Override
  public AddInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    return new AddInstruction(
        origin,
        files.expand(e),
        e.word(chown),
        e.word(chmod),
        link,
        keepGitDir,
        e.word(checksum),
        excludes,
        unpack);
  }
}
