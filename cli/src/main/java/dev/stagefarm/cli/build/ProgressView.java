package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;

/** Shows a build's progress to the user. */
public interface ProgressView extends AutoCloseable {
  void show(BuildProgress progress);

  /** Prints the last line(s) and stops any redrawing. */
  @Override
  void close();
}
