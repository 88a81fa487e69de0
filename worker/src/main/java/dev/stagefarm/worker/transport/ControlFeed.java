package dev.stagefarm.worker.transport;

import java.time.Duration;
import java.util.function.Function;

/**
 * The coordinator's control messages as this worker receives them, unverified: the reader checks
 * each one's farm MAC ({@code TaskLoop}), as every transport carries the same signed records.
 */
public interface ControlFeed extends AutoCloseable {
  /** One control record: its position (for logs), serialized {@code ControlMessage} and header lookup. */
  record Message(long offset, byte[] value, Function<String, byte[]> headers) {}

  /** Starts delivering: the recent messages (within the feed's lookback) first, then new ones. */
  ControlFeed start();

  /** Waits until the messages that were there at the start are delivered; false on timeout. */
  boolean awaitCaughtUp(Duration timeout) throws InterruptedException;

  @Override
  void close();
}
