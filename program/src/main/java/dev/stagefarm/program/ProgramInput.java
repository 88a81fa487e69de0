package dev.stagefarm.program;

/**
 * A stage or image the ops read besides the base ({@code COPY --from}, {@code RUN --mount from=}).
 *
 * @param id unique in the program: {@code stage:<stage id>} or {@code image:<pinned reference>}
 * @param key its identity in cache keys: the stage's final key, or the image's root key
 * @param name as the Dockerfile named it ({@code build}, {@code 0}, {@code alpine:3}), for messages
 */
public record ProgramInput(String id, CacheKey key, String name) {
  public static String stageId(String stageId) {
    return "stage:" + stageId;
  }

  public static String imageId(String pinnedReference) {
    return "image:" + pinnedReference;
  }
}
