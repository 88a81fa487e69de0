package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkerSlotsTest {

  final WorkerSlots slots = new WorkerSlots(2, 64);

  @Test
  void theCapacityIsTheLiveWorkersSlotsPlusTheMargin() {
    slots.report("w1", 4, 1, 5_000, 0);
    slots.report("w2", 4, 4, 5_000, 0);

    assertThat(slots.capacity(1_000)).isEqualTo(10);
    assertThat(slots.totals(1_000)).isEqualTo(new WorkerSlots.Totals(2, 8, 5));
  }

  @Test
  void withoutAReportTheUnreportedCapacityApplies() {
    assertThat(slots.capacity(0)).isEqualTo(64);
  }

  @Test
  void aWorkerThatMissesThreeReportsIsGone() {
    slots.report("w1", 4, 4, 5_000, 0);
    slots.report("w2", 2, 2, 5_000, 10_000);

    assertThat(slots.capacity(15_000)).isEqualTo(8);
    assertThat(slots.capacity(15_001)).isEqualTo(4); // w1's three intervals are over
    assertThat(slots.capacity(25_001)).isEqualTo(64);
  }

  @Test
  void madeUpNumbersAreClampedAndAFloodOfWorkerIdsStaysBounded() {
    slots.report("liar", Integer.MAX_VALUE, -5, Long.MAX_VALUE, 0);
    assertThat(slots.totals(0)).isEqualTo(new WorkerSlots.Totals(1, WorkerSlots.MAX_SLOTS_PER_WORKER, 0));

    for (int i = 0; i < 100_000; i++) {
      slots.report("w" + i, 1, 1, 1, 0); // a 1 ms interval counts as the 1 s minimum
    }

    assertThat(slots.totals(0).workers()).isEqualTo(WorkerSlots.MAX_WORKERS);
    assertThat(slots.capacity(3_000)).isEqualTo(WorkerSlots.MAX_WORKERS + 2);
    assertThat(slots.capacity(3_001)).isEqualTo(64);
  }

  @Test
  void aReportWithoutAWorkerIdIsIgnored() {
    slots.report("", 8, 8, 5_000, 0);

    assertThat(slots.capacity(0)).isEqualTo(64);
  }
}
