package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.coordinator.content.StageResult;
import java.util.List;
import java.util.Optional;

/**
 * What the scheduler needs to know about one stage of a planned build.
 *
 * @param id unique in the build, e.g. {@code "1-build"}
 * @param name the stage's name as the user knows it (for messages)
 * @param dependsOn ids of the stages whose results this one needs (base stage, COPY --from)
 * @param chainKey the cache key after the stage's last instruction: it covers the whole chain
 *     (base, inputs, instructions), so equal keys mean identical work. Empty: never shared.
 * @param weight the relative cost used for critical-path ordering (instructions count)
 * @param cachedResult the result assembled from cache records when every instruction hit
 */
public record StageSpec(
    String id,
    String name,
    List<String> dependsOn,
    String chainKey,
    int weight,
    Optional<StageResult> cachedResult) {

  public StageSpec {
    dependsOn = List.copyOf(dependsOn);
    if (weight < 1) {
      weight = 1;
    }
  }

  public static StageSpec of(String id, List<String> dependsOn, String chainKey, int weight) {
    return new StageSpec(id, id, dependsOn, chainKey, weight, Optional.empty());
  }
}
