package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulingPolicyTest {

  @Test
  void theAuthenticatedIdentityIsTheTenantAndAnotherRequestedTenantIsRefused() {
    assertThat(SchedulingPolicy.tenantOf("alice", "")).isEqualTo("alice");
    assertThat(SchedulingPolicy.tenantOf("alice", "alice")).isEqualTo("alice");
    assertThatThrownBy(() -> SchedulingPolicy.tenantOf("alice", "bob"))
        .hasMessageContaining("--tenant bob is not allowed").hasMessageContaining("(alice)");
  }

  @Test
  void withoutAuthenticationTheRequestedTenantOrDefault() {
    assertThat(SchedulingPolicy.tenantOf("", "team-a")).isEqualTo("team-a");
    assertThat(SchedulingPolicy.tenantOf("", "")).isEqualTo("default");
  }

  @Test
  void aHostileTenantNameIsRefusedNamingTheRuleAndCutInTheMessage() {
    assertThatThrownBy(() -> SchedulingPolicy.tenantOf("", "x".repeat(100_000)))
        .hasMessageContaining("must be 1-64 characters").hasMessageContaining("…")
        .message().hasSizeLessThan(300);
    assertThatThrownBy(() -> SchedulingPolicy.tenantOf("", "a b\n")).hasMessageContaining("must be 1-64");
  }

  @Test
  void weightsAndPriorityBoundsComeFromNamedNumbers() {
    SchedulingPolicy policy = new SchedulingPolicy(
        SchedulingPolicy.namedNumbers("tenant-weight", List.of("a=3", "b = 2")), 1,
        SchedulingPolicy.namedNumbers("tenant-max-priority", List.of("ops=10")), 10, 100, 2, 64, 20);

    assertThat(policy.weight("a")).isEqualTo(3);
    assertThat(policy.weight("b")).isEqualTo(2);
    assertThat(policy.weight("other")).isEqualTo(1);
    assertThat(policy.maxPriority("ops")).isEqualTo(10);
    assertThat(policy.maxPriority("a")).isEqualTo(1);
  }

  @Test
  void aBadEntryOrWeightIsRefusedNamingTheKey() {
    assertThatThrownBy(() -> SchedulingPolicy.namedNumbers("tenant-weight", List.of("a:3")))
        .hasMessage("tenant-weight: \"a:3\" is not TENANT=NUMBER");
    assertThatThrownBy(() -> SchedulingPolicy.namedNumbers("tenant-weight", List.of("a=x")))
        .hasMessage("tenant-weight: \"a=x\" is not TENANT=NUMBER");
    assertThatThrownBy(() -> new SchedulingPolicy(Map.of("a", 0), 0, Map.of(), 1, 1, 0, 1, 0))
        .hasMessageContaining("weight must be 1..1000");
  }
}
