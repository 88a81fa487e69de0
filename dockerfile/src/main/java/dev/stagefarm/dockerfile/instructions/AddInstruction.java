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

  /**
   * Expands sources, destination, {@code --chown}, {@code --chmod}, {@code --checksum}, and
   * checks {@code --checksum} like BuildKit's dispatcher (one remote source only).
   */
  @Override
  public AddInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    AddInstruction expanded = new AddInstruction(
        origin,
        files.expand(e),
        e.word(chown),
        e.word(chmod),
        link,
        keepGitDir,
        e.word(checksum),
        excludes,
        unpack);
    expanded.checkChecksum();
    return expanded;
  }

  private void checkChecksum() {
    if (checksum.isEmpty()) {
      return;
    }
    if (files.sourcePaths().size() != 1) {
      throw new dev.stagefarm.dockerfile.DockerfileException(
          origin.line(), "checksum can't be specified for multiple sources");
    }
    if (RemoteSource.of(files.sourcePaths().get(0)).isEmpty()) {
      throw new dev.stagefarm.dockerfile.DockerfileException(
          origin.line(), "checksum requires HTTP(S) or Git sources");
    }
  }
}
