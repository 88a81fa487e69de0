package dev.stagefarm.coordinator.compile;

import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.program.ProgramInput;

/**
 * What a {@code COPY --from} or {@code RUN --mount from=} names: a stage of the build (by name, or
 * by index for COPY) or an image, as the program input the task will carry. The planner knows the
 * stages' final keys and pins images.
 */
@FunctionalInterface
public interface InputResolver {
  /**
   * @param kind {@link Dependency.Kind#COPY_FROM} or {@link Dependency.Kind#MOUNT_FROM}
   * @param reference as written
   * @param line the Dockerfile line, for errors
   * @throws dev.stagefarm.dockerfile.DockerfileException for a reference the build cannot serve
   */
  ProgramInput resolve(Dependency.Kind kind, String reference, int line);
}
