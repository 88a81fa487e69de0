package dev.stagefarm.coordinator.port;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a restarted coordinator needs of a build: the request to re-plan it, its status, the
 * results of the stages that finished, the base images its plan pinned (a resumed build never
 * resolves a tag again), and its progress epoch (how many coordinators resumed it: progress
 * sequence numbers keep growing across a take-over).
 *
 * <p>A whole entry ({@code changes} null) carries every stage. A partial one carries only the
 * stages that changed since the build's previous entry handed to the same journal, in {@code
 * status}'s stages and {@code stageResults}; {@code changes} says how many stages the build has and
 * where each listed one stands in its plan. Only a journal that {@linkplain
 * BuildJournal#takesPartialEntries() takes them} is handed partial entries: a round of a
 * 10,000-stage build then costs its changed stages, not the build.
 *
 * <p>The request and status are still the gRPC API's messages: the coordinator keeps builds in
 * those shapes (issue 8 leaves their translation for later).
 */
public record JournalEntry(
    String buildId,
    SubmitBuildRequest request,
    BuildStatus status,
    Map<String, StageResult> stageResults,
    Map<String, PinnedImage> pinnedImages,
    long progressEpoch,
    StageChanges changes) {

  /**
   * What a partial entry's stages are part of.
   *
   * @param stageCount how many stages the build has
   * @param order each listed stage's position in the build's plan, by stage id
   */
  public record StageChanges(int stageCount, Map<String, Integer> order) {
    public StageChanges {
      order = Map.copyOf(order);
    }
  }

  public JournalEntry {
    stageResults = Collections.unmodifiableMap(new LinkedHashMap<>(stageResults));
    pinnedImages = Collections.unmodifiableMap(new LinkedHashMap<>(pinnedImages));
  }

  /** A whole entry: every stage of the build. */
  public JournalEntry(String buildId, SubmitBuildRequest request, BuildStatus status,
      Map<String, StageResult> stageResults, Map<String, PinnedImage> pinnedImages, long progressEpoch) {
    this(buildId, request, status, stageResults, pinnedImages, progressEpoch, null);
  }

  /** A whole entry without pinned images, in progress epoch 0. */
  public JournalEntry(
      String buildId, SubmitBuildRequest request, BuildStatus status, Map<String, StageResult> stageResults) {
    this(buildId, request, status, stageResults, Map.of(), 0);
  }

  /** Whether it carries every stage of the build. */
  public boolean whole() {
    return changes == null;
  }

  /** How many stages the build has (a partial entry lists fewer). */
  public int stageCount() {
    return changes == null ? status.getStagesCount() : changes.stageCount();
  }

  public JournalEntry withRequest(SubmitBuildRequest newRequest) {
    return new JournalEntry(buildId, newRequest, status, stageResults, pinnedImages, progressEpoch, changes);
  }
}
