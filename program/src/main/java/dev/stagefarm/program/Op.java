package dev.stagefarm.program;

import java.util.Optional;

/**
 * One resolved instruction: a change to the image config, then (for RUN, COPY/ADD and WORKDIR) an
 * action on the filesystem.
 *
 * @param source where it came from (not keyed)
 * @param createdBy the history entry's text as BuildKit writes it (without " # buildkit", which
 *     {@link ConfigFold} adds); empty: the op adds no history entry (ONBUILD)
 * @param config applied to the image config before the action
 * @param action what it does to the filesystem; empty for metadata-only instructions
 */
public record Op(OpSource source, String createdBy, ConfigDelta config, Optional<Action> action) {

  /** A metadata-only op. */
  public static Op metadata(OpSource source, String createdBy, ConfigDelta config) {
    return new Op(source, createdBy, config, Optional.empty());
  }

  /** An op that only acts on the filesystem. */
  public static Op of(OpSource source, String createdBy, Action action) {
    return new Op(source, createdBy, ConfigDelta.NONE, Optional.of(action));
  }
}
