package dev.stagefarm.program;

import java.util.List;

/**
 * One match of a source in the build context: the worker fetches exactly these entries.
 *
 * @param path the match, clean and relative to the context root ({@code ""} = the root)
 * @param placeAt where the match lands under a directory destination: its base name for a file,
 *     {@code ""} for a directory (its contents are copied), with --parents its path after the pivot
 * @param entries the match ({@code ""}) and everything under it, relative to the match, sorted;
 *     symlinks in the match's own path are already followed
 */
public record ContextSelection(String path, String placeAt, List<ContextFile> entries) {
  public ContextSelection {
    entries = List.copyOf(entries);
  }

  /** The match itself (the entry at {@code ""}). */
  public ContextFile root() {
    return entries.stream().filter(e -> e.path().isEmpty()).findFirst()
        .orElseThrow(() -> new IllegalStateException("context selection " + path + " has no root entry"));
  }
}
