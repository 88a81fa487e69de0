package dev.stagefarm.dockerfile.instructions;

import java.util.Optional;
import java.util.regex.Pattern;

/** The remote kinds of ADD sources: an HTTP(S) URL or a git repository. */
public enum RemoteSource {
  URL("URL"),
  GIT("git ref");

  // BuildKit's dfgitutil recognises these forms as git repositories (not local paths).
  private static final Pattern GIT_REPOSITORY =
      Pattern.compile(
          "^(git://|git@[^:/]+:|ssh://|git\\+ssh://|git\\+https?://|https?://[^#]+\\.git(#.*)?$)");

  private final String description;

  RemoteSource(String description) {
    this.description = description;
  }

  String describe() {
    return description;
  }

  /** The remote kind of a source as written, or empty for a local path. */
  public static Optional<RemoteSource> of(String source) {
    if (GIT_REPOSITORY.matcher(source).find()) {
      return Optional.of(GIT);
    }
    if (source.startsWith("http://") || source.startsWith("https://")) {
      return Optional.of(URL);
    }
    return Optional.empty();
  }
}
