package dev.stagefarm.program;

/** What a stage starts from; its layers and config come with the task, not the program. */
public sealed interface ProgramBase {
  /** A pinned image ({@code docker.io/library/busybox@sha256:…}). */
  record Image(String reference) implements ProgramBase {}

  /** The result of another stage of the build ({@code FROM build}), by stage id. */
  record Stage(String stageId) implements ProgramBase {}

  /** {@code FROM scratch}. */
  record Scratch() implements ProgramBase {}
}
