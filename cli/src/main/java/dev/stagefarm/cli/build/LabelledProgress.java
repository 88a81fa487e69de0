package dev.stagefarm.cli.build;

import dev.stagefarm.proto.v1.BuildProgress;

/**
 * One build's progress into a view that several builds share (the platforms of one
 * {@code --platform a,b} build, the targets of a bake): each stage named {@code LABEL STAGE} and its
 * ids kept apart from the other builds'. Closing it leaves the shared view open.
 */
public final class LabelledProgress implements ProgressView {
  private final ProgressView shared;
  private final String label;

  public LabelledProgress(ProgressView shared, String label) {
    this.shared = shared;
    this.label = label;
  }

  @Override
  public void show(BuildProgress entry) {
    BuildProgress.Builder labelled = entry.toBuilder();
    if (entry.hasStage()) {
      labelled.getStageBuilder()
          .setStageId(label + "/" + entry.getStage().getStageId())
          .setName(label + " " + entry.getStage().getName());
    }
    if (!entry.getLogStageId().isEmpty()) {
      labelled.setLogStageId(label + "/" + entry.getLogStageId());
    }
    synchronized (shared) {
      shared.show(labelled.build());
    }
  }

  @Override
  public void close() {
    // the shared view is closed by its owner, once every build has ended
  }
}
