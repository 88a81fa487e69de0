package dev.stagefarm.dockerfile.graph;

/** What a stage starts from: an image, an earlier stage, or nothing ({@code scratch}). */
public sealed interface StageBase {

  /** An image reference, ARGs expanded, as written otherwise (e.g. {@code alpine:3.20}). */
  record Image(String reference) implements StageBase {}

  /** An earlier stage of the same Dockerfile. */
  record StageRef(int index) implements StageBase {}

  /** The empty filesystem. */
  record Scratch() implements StageBase {}
}
