package dev.stagefarm.proto;

import dev.stagefarm.proto.v1.StageEvent;

/**
 * Which worker events say that a worker ran a stage's attempt: its {@code started}, or — for a
 * stage that ended within the worker's start delay, which publishes no {@code started} — its
 * {@code completed} with {@code started_ms} (docs/protocol.md, "One event for a stage that ends at
 * once"). For readers that count runs (tests, tools) so that both kinds count.
 */
public final class StageRuns {
  private StageRuns() {}

  /** Whether {@code event} marks the beginning of a run: one per run. */
  public static boolean marksRun(StageEvent event) {
    return event.hasStarted() || event.hasCompleted() && event.getCompleted().getStartedMs() > 0;
  }

  /** When the run that {@code event} marks began, by the worker's clock (epoch ms). */
  public static long runStartedMs(StageEvent event) {
    return event.hasStarted() ? event.getTimestampMs() : event.getCompleted().getStartedMs();
  }
}
