package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.store.StoreCollector;
import dev.stagefarm.coordinator.store.StoreUsage;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** What {@code stagefarm du} and {@code stagefarm prune} ask of the coordinator's content store. */
public interface StoreAdministration {
  /** Usage by area, and what a prune with the coordinator's policy would delete now. */
  record Usage(List<StoreUsage.Area> areas, StoreCollector.Report reclaimable) {
    public Usage {
      areas = List.copyOf(areas);
    }
  }

  Usage usage() throws IOException;

  /**
   * One collection now with the coordinator's grace for unreferenced content.
   *
   * @param keepDuration cache records last written longer ago are deleted; empty: the coordinator's
   */
  StoreCollector.Report prune(Optional<Duration> keepDuration, boolean dryRun) throws IOException;

  /** For a service without a content store to administer (tests of other calls). */
  StoreAdministration NONE = new StoreAdministration() {
    @Override
    public Usage usage() {
      throw new UnsupportedOperationException("this coordinator does not administer its content store");
    }

    @Override
    public StoreCollector.Report prune(Optional<Duration> keepDuration, boolean dryRun) {
      throw new UnsupportedOperationException("this coordinator does not administer its content store");
    }
  };
}
