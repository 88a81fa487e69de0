package dev.stagefarm.coordinator;

import java.time.Duration;

/**
 * How long the coordinator remembers finished builds. For {@code details} after it finished a
 * build keeps everything (stages, progress log, request, journal record); then it shrinks to a
 * summary (id, state, image digest, error, times) and its journal record is tombstoned, so a
 * restart does not replay it. Summaries go after {@code summaries} or, oldest first, when there
 * are more than {@code maxSummaries}.
 *
 * @param details how long a finished build keeps its details ({@code build-retention})
 * @param summaries how long its summary stays after that ({@code summary-retention})
 * @param maxSummaries the most summaries kept ({@code max-summaries})
 * @param sweepInterval how often finished builds are checked for eviction
 */
public record Retention(Duration details, Duration summaries, int maxSummaries, Duration sweepInterval) {
  /** One hour of details, a week (or 10,000) of summaries, checked every 30 s. */
  public static final Retention DEFAULT =
      new Retention(Duration.ofHours(1), Duration.ofDays(7), 10_000, Duration.ofSeconds(30));

  public Retention {
    if (details.isNegative() || summaries.isNegative()) {
      throw new IllegalArgumentException("retention must not be negative");
    }
    if (maxSummaries < 0) {
      throw new IllegalArgumentException("max-summaries must not be negative, got " + maxSummaries);
    }
    if (sweepInterval.isNegative() || sweepInterval.isZero()) {
      throw new IllegalArgumentException("the retention sweep interval must be positive");
    }
  }
}
