package dev.stagefarm.coordinator.port;

/**
 * Worker events flowing to the active coordinator (in production the event topic): started by its
 * owner with the coordinator's handler, stopped by {@link #close()}. Events without a valid farm MAC
 * never reach the handler.
 */
public interface WorkerEventStream extends AutoCloseable {
  /** How many events were ignored for a missing or invalid farm MAC since this stream started. */
  long unauthenticatedEvents();

  @Override
  void close();
}
