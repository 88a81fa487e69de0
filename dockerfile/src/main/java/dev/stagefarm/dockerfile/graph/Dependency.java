package dev.stagefarm.dockerfile.graph;

/**
 * An edge of the stage graph: a stage needs another stage's result, or an image's filesystem.
 *
 * @param kind why: the base, a {@code COPY --from}, or a {@code RUN --mount from=}
 * @param stageIndex the stage depended on, or -1 for an external image
 * @param reference the stage or image as written in {@code --from} / {@code from=} (for a base:
 *     the base name with ARGs expanded)
 * @param line the Dockerfile line that makes the edge
 */
public record Dependency(Kind kind, int stageIndex, String reference, int line) {

  /** What makes the edge. */
  public enum Kind {
    BASE,
    COPY_FROM,
    MOUNT_FROM
  }

  /** Whether the edge goes to a stage of this Dockerfile (not an external image). */
  public boolean isStage() {
    return stageIndex >= 0;
  }

  /** The external image reference, or null for an edge to a stage. */
  public String image() {
    return isStage() ? null : reference;
  }

  static Dependency onStage(Kind kind, int stageIndex, String reference, int line) {
    return new Dependency(kind, stageIndex, reference, line);
  }

  static Dependency onImage(Kind kind, String image, int line) {
    return new Dependency(kind, -1, image, line);
  }
}
