package dev.stagefarm.worker.transport;

import java.time.Duration;
import java.util.function.Consumer;

/** Makes a worker's connections to the farm: one task channel per slot, event sinks, the control feed. */
public interface WorkerTransport {
  /** A channel for one slot; {@code clientId} names it in logs and the queue. */
  TaskChannel taskChannel(String clientId);

  EventSink eventSink(String clientId);

  /**
   * @param lookback how far back a starting worker reads (builds that ended while it was down)
   * @param onMessage called for each message on the feed's thread (must be quick)
   */
  ControlFeed controlFeed(String clientId, Duration lookback, Consumer<ControlFeed.Message> onMessage);
}
