package dev.stagefarm.coordinator.port;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a restarted coordinator needs of a build: the request to re-plan it, its status, and the
 * results of the stages that finished.
 *
 * <p>The request and status are still the gRPC API's messages: the coordinator keeps builds in
 * those shapes (issue 8 leaves their translation for later).
 */
public record JournalEntry(
    String buildId, SubmitBuildRequest request, BuildStatus status, Map<String, StageResult> stageResults) {

  public JournalEntry {
    stageResults = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(stageResults));
  }
}
