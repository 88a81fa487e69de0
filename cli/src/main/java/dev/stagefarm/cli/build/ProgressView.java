package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;

/** Shows a build's progress to the user. */
public interface ProgressView extends AutoCloseable {
  void show(BuildProgress progress);

  /**
   * A step of the client's own before the farm reports anything (farm start-up, context upload,
   * submit and planning): shown when it starts, so the first second is not silent.
   */
  default void phaseStarted(String name) {}

  /** The phase last started is over; {@code detail} (may be empty) says what it did. */
  default void phaseDone(String detail) {}

  /**
   * Bytes moved for the running client phase (the context upload): BuildKit's vertex
   * {@code statuses}. Only rawjson shows them; the other views say it in {@link #phaseDone}.
   */
  default void transferred(String name, long current, long total) {}

  /** Prints the last line(s) and stops any redrawing. */
  @Override
  void close();
}
