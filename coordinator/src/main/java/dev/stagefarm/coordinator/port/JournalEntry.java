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
 * <p>The request and status are still the gRPC API's messages: the coordinator keeps builds in
 * those shapes (issue 8 leaves their translation for later).
 */
public record JournalEntry(
    String buildId,
    SubmitBuildRequest request,
    BuildStatus status,
    Map<String, StageResult> stageResults,
    Map<String, PinnedImage> pinnedImages,
    long progressEpoch) {

  public JournalEntry {
    stageResults = Collections.unmodifiableMap(new LinkedHashMap<>(stageResults));
    pinnedImages = Collections.unmodifiableMap(new LinkedHashMap<>(pinnedImages));
  }

  /** An entry without pinned images, in progress epoch 0. */
  public JournalEntry(
      String buildId, SubmitBuildRequest request, BuildStatus status, Map<String, StageResult> stageResults) {
    this(buildId, request, status, stageResults, Map.of(), 0);
  }

  public JournalEntry withRequest(SubmitBuildRequest newRequest) {
    return new JournalEntry(buildId, newRequest, status, stageResults, pinnedImages, progressEpoch);
  }
}
