package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.coordinator.grpc.StandbyService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A coordinator that stays a standby past the client's patience (a restarted coordinator whose
 * predecessor's leadership has not lapsed yet, on a loaded machine) is reachable: the error says no
 * coordinator took over and quotes the standby, instead of calling a coordinator that answers
 * "unreachable" (what the multi-host suite's restart test printed).
 */
class BuildClientStandbyTest {
  @Test
  void aStandbyPastThePatienceIsReportedAsNoActiveCoordinatorNotAsUnreachable() throws Exception {
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name)
        .addService(StandbyService.definition(() -> Optional.of("coordinator:7070"))).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      BuildClient client = new BuildClient(CoordinatorRoute.fixed(channel, "coordinator:7070"), Duration.ofSeconds(1));
      UserError error = catchThrowableOfType(UserError.class, () -> client.getBuild("b1"));
      assertThat(error.getMessage())
          .isEqualTo("reading build b1 failed: no active coordinator within 1 s; the coordinator at coordinator:7070"
              + " answers: this coordinator is a standby; the active coordinator is at coordinator:7070")
          .doesNotContain("unreachable");
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
