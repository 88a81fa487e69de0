package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.Optional;

/**
 * {@code --no-cache} and {@code --no-cache-filter}: which stages run without a cache lookup (as a
 * whole or op by op). Their results are still recorded. As in BuildKit, the filter names stages
 * (case-insensitively); an unnamed stage cannot be named, and a name no stage has is ignored.
 */
public final class NoCacheFilter {
  private NoCacheFilter() {}

  /** Whether the stage named {@code name} (empty: unnamed) skips the cache in this build. */
  public static boolean skipsCache(SubmitBuildRequest request, Optional<String> name) {
    if (request.getNoCache()) {
      return true;
    }
    return name.isPresent() && request.getNoCacheFilterList().stream().anyMatch(n -> n.equalsIgnoreCase(name.get()));
  }

  /** As {@link #skipsCache(SubmitBuildRequest, Optional)} for a planned stage. */
  public static boolean skipsCache(SubmitBuildRequest request, PlannedStage stage) {
    // PlannedStage.name is the index for an unnamed stage: its id has the name after the index
    boolean named = stage.id().contains("-");
    return skipsCache(request, named ? Optional.of(stage.name()) : Optional.empty());
  }
}
