package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.oci.Platform;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentBaseImagesTest {
  private final AtomicLong now = new AtomicLong();
  private final AtomicInteger asked = new AtomicInteger();
  private volatile boolean failing;

  private final BaseImageResolver registry = (reference, platform) -> {
    asked.incrementAndGet();
    if (failing) {
      throw new PlanningException("pulling base image " + reference + " failed: registry down");
    }
    String pinned = reference + "@sha256:" + "%064d".formatted(asked.get());
    return new BaseImageResolver.ResolvedImage(pinned, "sha256:" + "%064d".formatted(asked.get()),
        new StageResult(List.of(), new byte[0], pinned));
  };

  private final RecentBaseImages images = new RecentBaseImages(registry, Duration.ofSeconds(10), now::get);

  @Test
  void aReferenceResolvedSecondsAgoIsNotAskedAgainUntilItExpires() throws Exception {
    var first = images.resolve("busybox:latest", Platform.LINUX_AMD64);
    now.addAndGet(Duration.ofSeconds(9).toNanos());
    assertThat(images.resolve("busybox:latest", Platform.LINUX_AMD64)).isSameAs(first);
    assertThat(asked).hasValue(1);

    now.addAndGet(Duration.ofSeconds(2).toNanos()); // 11 s after: a tag pushed meanwhile is seen
    assertThat(images.resolve("busybox:latest", Platform.LINUX_AMD64).manifestDigest())
        .isNotEqualTo(first.manifestDigest());
    assertThat(asked).hasValue(2);
  }

  @Test
  void anotherPlatformOrReferenceIsItsOwnEntry() throws Exception {
    images.resolve("busybox:latest", Platform.LINUX_AMD64);
    images.resolve("busybox:latest", Platform.LINUX_ARM64);
    images.resolve("alpine:3", Platform.LINUX_AMD64);
    assertThat(asked).hasValue(3);
  }

  @Test
  void aFailureIsNotRemembered() throws Exception {
    failing = true;
    assertThatThrownBy(() -> images.resolve("busybox:latest", Platform.LINUX_AMD64))
        .isInstanceOf(PlanningException.class).hasMessageContaining("registry down");
    failing = false;
    assertThat(images.resolve("busybox:latest", Platform.LINUX_AMD64).pinnedReference()).startsWith("busybox:latest@");
    assertThat(asked).hasValue(2);
  }
}
