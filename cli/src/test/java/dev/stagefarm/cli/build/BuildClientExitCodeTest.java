package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.ExitCodes;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

class BuildClientExitCodeTest {
  @Test
  void theFarmRefusingTheBuildIsABuildFailureAndTheFarmFailingIsAFarmFailure() {
    assertThat(BuildClient.exitCode(Status.Code.INVALID_ARGUMENT)).isEqualTo(ExitCodes.BUILD_FAILED);
    assertThat(BuildClient.exitCode(Status.Code.FAILED_PRECONDITION)).isEqualTo(ExitCodes.BUILD_FAILED);
    assertThat(BuildClient.exitCode(Status.Code.UNAVAILABLE)).isEqualTo(ExitCodes.FARM_FAILED);
    assertThat(BuildClient.exitCode(Status.Code.UNAUTHENTICATED)).isEqualTo(ExitCodes.FARM_FAILED);
    assertThat(BuildClient.exitCode(Status.Code.RESOURCE_EXHAUSTED)).isEqualTo(ExitCodes.FARM_FAILED);
    assertThat(BuildClient.exitCode(Status.Code.INTERNAL)).isEqualTo(ExitCodes.FARM_FAILED);
  }
}
