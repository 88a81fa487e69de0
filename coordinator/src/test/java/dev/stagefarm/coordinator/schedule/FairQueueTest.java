package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FairQueueTest {

  final FairQueue<String> queue = new FairQueue<>();

  static FairQueue.Rank rank(String tenant, int weight, int priority, long build, int path) {
    return new FairQueue.Rank(tenant, weight, priority, build, path);
  }

  /** Adds {@code count} items "tenant-i" for one build of the tenant. */
  void fill(String tenant, int weight, int priority, long build, int count) {
    for (int i = 0; i < count; i++) {
      queue.add(tenant + "-" + build + "-" + i, rank(tenant, weight, priority, build, 1));
    }
  }

  String release() {
    return queue.release().orElseThrow();
  }

  static String tenantOf(String item) {
    return item.substring(0, item.indexOf('-'));
  }

  @Test
  void aSmallBuildOfAnotherTenantGoesNextBehindAHundredQueuedStages() {
    fill("a", 1, 0, 1, 100);
    for (int i = 0; i < 8; i++) {
      release(); // tenant a fills 8 slots
    }
    fill("b", 1, 0, 2, 1);

    assertThat(release()).isEqualTo("b-2-0");
  }

  @Test
  void equalWeightsShareReleasesAlternately() {
    fill("a", 1, 0, 1, 10);
    fill("b", 1, 0, 2, 10);

    List<String> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      order.add(tenantOf(release()));
    }

    assertThat(order).containsExactly("a", "b", "a", "b", "a", "b");
  }

  @Test
  void busySlotsConvergeOnTheWeightsWhateverTheStageDurations() {
    // 12 slots; tenant a's stages take 3 ticks, b's 1 tick, c (weight 2) 2 ticks
    Map<String, Integer> weights = Map.of("a", 1, "b", 1, "c", 2);
    Map<String, Integer> duration = Map.of("a", 3, "b", 1, "c", 2);
    weights.forEach((t, w) -> fill(t, w, 0, t.charAt(0), 10_000));
    Map<String, Integer> running = new HashMap<>(); // item -> ticks left
    Map<String, Long> slotTime = new HashMap<>();
    for (int tick = 0; tick < 3_000; tick++) {
      while (running.size() < 12) {
        String item = release();
        running.put(item, duration.get(tenantOf(item)));
      }
      for (var it = running.entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        slotTime.merge(tenantOf(e.getKey()), 1L, Long::sum);
        e.setValue(e.getValue() - 1);
        if (e.getValue() == 0) {
          queue.finished(tenantOf(e.getKey()));
          it.remove();
        }
      }
    }

    // slot-time per unit of weight: a and b 3 slots each, c 6
    assertThat(slotTime.get("a")).isBetween(8_900L, 9_100L);
    assertThat(slotTime.get("b")).isBetween(8_900L, 9_100L);
    assertThat(slotTime.get("c")).isBetween(17_900L, 18_100L);
  }

  @Test
  void aHigherPriorityGoesFirstAcrossTenantsButRunningItemsStay() {
    fill("a", 1, 0, 1, 5);
    release();
    release();
    fill("b", 1, 5, 2, 3);

    assertThat(List.of(release(), release(), release())).containsExactly("b-2-0", "b-2-1", "b-2-2");
    assertThat(queue.inFlightOf("a")).isEqualTo(2); // released items are not taken back
    assertThat(tenantOf(release())).isEqualTo("a");
  }

  @Test
  void withinATenantHigherPriorityThenOlderBuildThenLongerCriticalPath() {
    queue.add("old-short", rank("t", 1, 0, 1, 1));
    queue.add("old-long", rank("t", 1, 0, 1, 7));
    queue.add("new", rank("t", 1, 0, 2, 9));
    queue.add("urgent", rank("t", 1, 3, 3, 1));

    assertThat(List.of(release(), release(), release(), release()))
        .containsExactly("urgent", "old-long", "old-short", "new");
  }

  @Test
  void aTenantBackFromIdleGetsNoCreditForTheTimeItHadNothingQueued() {
    fill("a", 1, 0, 1, 50);
    fill("b", 1, 0, 2, 1);
    for (int i = 0; i < 20; i++) {
      queue.finished(tenantOf(release()));
    }
    fill("b", 1, 0, 3, 20);

    List<String> next = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String item = release();
      next.add(tenantOf(item));
      queue.finished(tenantOf(item));
    }

    // not b 19 times in a row to make up for its idle time
    assertThat(next).containsExactly("b", "a", "b", "a", "b", "a");
  }

  @Test
  void removedItemsAreNotReleasedAndIdleTenantsAreForgotten() {
    fill("a", 1, 0, 1, 3);
    fill("b", 1, 0, 2, 2);

    assertThat(queue.removeIf(item -> item.startsWith("a-"))).isEqualTo(3);

    assertThat(queue.size()).isEqualTo(2);
    assertThat(queue.loads()).extracting(FairQueue.TenantLoad::tenant).containsExactly("b");
    assertThat(List.of(release(), release())).containsExactly("b-2-0", "b-2-1");
    assertThat(queue.release()).isEmpty();
    queue.finished("b");
    queue.finished("b");
    assertThat(queue.loads()).isEmpty();
  }

  @Test
  void positionInTenantCountsTheItemsAheadOfIt() {
    fill("a", 1, 0, 1, 4);

    assertThat(queue.positionInTenant("a-1-0")).contains(0);
    assertThat(queue.positionInTenant("a-1-3")).contains(3);
    assertThat(queue.positionInTenant("nope")).isEmpty();
  }

  @Test
  void aBuildsFirstPositionCountsTheEarlierBuildsAndTheInterleavedOnesOfItsOwnRank() {
    fill("a", 1, 0, 1, 3); // an earlier build: all three go first
    fill("a", 1, 5, 9, 2); // a build of a higher priority: first of all
    queue.add("x-long", rank("a", 1, 0, 2, 9)); // same priority and build order as y's: interleaved by path
    queue.add("y-short", rank("a", 1, 0, 2, 1));
    queue.add("y-long", rank("a", 1, 0, 2, 9));
    fill("a", 1, 0, 3, 2); // a later build

    assertThat(queue.firstPositionInTenant("a", 0, 2, item -> item.startsWith("y-"))).contains(2 + 3 + 1);
    assertThat(queue.firstPositionInTenant("a", 0, 2, item -> item.startsWith("x-"))).contains(2 + 3);
    assertThat(queue.firstPositionInTenant("a", 0, 1, item -> item.startsWith("a-1-"))).contains(2);
    assertThat(queue.firstPositionInTenant("a", 0, 3, item -> item.startsWith("a-3-"))).contains(2 + 3 + 3);
    assertThat(queue.firstPositionInTenant("a", 0, 4, item -> true)).isEmpty();
    assertThat(queue.firstPositionInTenant("b", 0, 1, item -> true)).isEmpty();
  }

  @Test
  void tenThousandQueuedItemsReleaseInBoundedWorkPerRelease() {
    for (int t = 0; t < 10; t++) {
      fill("t" + t, 1 + t % 3, 0, t, 1_000);
    }
    int released = 0;
    while (queue.release().isPresent()) {
      released++;
    }
    assertThat(released).isEqualTo(10_000);
    assertThat(queue.inFlight()).isEqualTo(10_000);
  }
}
