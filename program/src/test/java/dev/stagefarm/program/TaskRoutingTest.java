package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.Platform;
import dev.stagefarm.proto.Topics;
import org.junit.jupiter.api.Test;

class TaskRoutingTest {
  @Test
  void amd64KeepsTheOriginalTaskTopicSoOlderWorkersStillTakeItsTasks() {
    assertThat(TaskRouting.topic(Platform.parse("linux/amd64"))).isEqualTo(Topics.TASKS);
    assertThat(TaskRouting.topic(Platform.parse("linux/x86_64"))).isEqualTo(Topics.TASKS);
  }

  @Test
  void otherPlatformsHaveATopicEachNamedForTheCanonicalPlatform() {
    assertThat(TaskRouting.topic(Platform.parse("linux/arm64"))).isEqualTo("stagefarm.tasks.linux-arm64");
    assertThat(TaskRouting.topic(Platform.parse("linux/arm64/v8"))).isEqualTo("stagefarm.tasks.linux-arm64");
    assertThat(TaskRouting.topic(Platform.parse("linux/arm"))).isEqualTo("stagefarm.tasks.linux-arm-v7");
    assertThat(TaskRouting.topic(Platform.parse("linux/arm/v6"))).isEqualTo("stagefarm.tasks.linux-arm-v6");
    assertThat(TaskRouting.topics()).hasSize(TaskRouting.PLATFORMS.size()).doesNotHaveDuplicates()
        .allMatch(t -> t.matches("[a-z0-9.-]+"));
  }

  @Test
  void aPlatformTheFarmDoesNotRouteIsRefusedNamingThoseItDoes() {
    assertThat(TaskRouting.routed(Platform.parse("windows/amd64"))).isFalse();
    assertThatThrownBy(() -> TaskRouting.topic(Platform.parse("linux/mips64")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the farm builds for linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6, linux/386,"
            + " linux/ppc64le, linux/s390x, linux/riscv64, not linux/mips64");
  }
}
