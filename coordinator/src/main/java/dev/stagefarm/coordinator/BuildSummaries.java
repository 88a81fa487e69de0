package dev.stagefarm.coordinator;

import dev.stagefarm.proto.v1.BuildStatus;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;

/**
 * The summaries of finished builds whose details were evicted ({@link Retention}): each is a
 * {@link BuildStatus} without stages. Held in eviction order, so the oldest go first.
 */
final class BuildSummaries {
  private final LinkedHashMap<String, BuildStatus> byId = new LinkedHashMap<>();

  /** Keeps the summary of a finished build: its status without the stages. */
  synchronized void add(BuildStatus status) {
    byId.put(status.getBuildId(), status.toBuilder().clearStages().build());
  }

  synchronized Optional<BuildStatus> get(String buildId) {
    return Optional.ofNullable(byId.get(buildId));
  }

  synchronized List<BuildStatus> all() {
    return new ArrayList<>(byId.values());
  }

  synchronized int size() {
    return byId.size();
  }

  /** Drops summaries older than the retention (by finish time), then the oldest over the count. */
  synchronized void expire(long nowMs, Retention retention) {
    long horizon = retention.details().plus(retention.summaries()).toMillis();
    Iterator<BuildStatus> it = byId.values().iterator();
    while (it.hasNext()) {
      BuildStatus summary = it.next();
      if (byId.size() > retention.maxSummaries() || summary.getFinishedMs() + horizon <= nowMs) {
        it.remove();
      }
    }
  }
}
