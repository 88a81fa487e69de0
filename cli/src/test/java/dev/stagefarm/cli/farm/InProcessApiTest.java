package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.RunContext;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.grpc.auth.Caller;
import dev.stagefarm.coordinator.grpc.auth.TokenTable;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.testkit.RegistryFixture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's in-process server beside its TCP port (the local farm's runs call their own
 * farm through it: {@link InProcessFarm}): a real broker-less farm with a token table, as the local
 * farm daemon starts it. The in-process server is no back door: a call without the token or with a
 * wrong one is refused there exactly as on the TCP port; a build run with the token is served.
 */
class InProcessApiTest {
  private static final String TOKEN = "in-process-test-token-5e0b7c";

  @TempDir static Path dir;
  private static EmbeddedFarm farm;

  @BeforeAll
  static void startFarm() throws Exception {
    TokenTable tokens = TokenTable.parse(TokenTable.entryLine(TOKEN, new Caller("local", Caller.Role.ADMIN)));
    ApiSecurity security = new ApiSecurity(Optional.empty(), Optional.of(tokens), Set.of(), 8);
    farm = EmbeddedFarm.startWithoutBroker(new EmbeddedFarm.Options(dir.resolve("home"), null, 1,
        RegistryFixture.shared().settings(), EmbeddedFarm.ONE_MACHINE_KAFKA, BuildCoordinator.Settings.DEFAULT, 0,
        InProcessWorkers.launcher(), InetAddress.getLoopbackAddress(), security));
  }

  @AfterAll
  static void stopFarm() {
    if (farm != null) {
      farm.close();
    }
  }

  private static Path tokenFile(String name, String token) throws Exception {
    return Files.writeString(dir.resolve(name), token + "\n");
  }

  @Test
  void aCallWithoutTheTokenOrWithAWrongOneIsRefusedInProcessAsOverTcp() throws Exception {
    ManagedChannel bare = InProcessChannelBuilder.forName(farm.inProcessServerName()).build();
    try {
      var stub = BuildServiceGrpc.newBlockingStub(bare);
      assertThatThrownBy(() -> stub.listBuilds(ListBuildsRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).contains("authentication required");
          });
    } finally {
      bare.shutdownNow();
    }
    for (Farm wrong : new Farm[] {
        farm.inProcessClient(ApiClientFlags.withTokenFile(tokenFile("wrong.token", TOKEN + "-not"))),
        RemoteFarm.connect(farm.endpoint(), ApiClientFlags.withTokenFile(tokenFile("wrong.token", TOKEN + "-not")))}) {
      try (wrong) {
        assertThatThrownBy(() -> BuildServiceGrpc.newBlockingStub(wrong.channel())
                .listBuilds(ListBuildsRequest.getDefaultInstance()))
            .as(wrong.endpoint())
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
              assertThat(e.getStatus().getDescription()).contains("the token is not valid");
            });
      }
    }
  }

  @Test
  void aRunWithTheTokenIsServedInProcessAndOneWithAWrongTokenIsRefused() throws Exception {
    Path context = Files.createDirectories(dir.resolve("context"));
    Files.writeString(context.resolve("Dockerfile"), "FROM scratch\nCOPY a.txt /a.txt\n");
    Files.writeString(context.resolve("a.txt"), "in-process\n");
    long before = farm.activity().lastMs();

    Run wrong = run(context, farm.inProcessClient(ApiClientFlags.withTokenFile(tokenFile("bad.token", "nope"))));
    assertThat(wrong.code()).as(wrong.err()).isNotZero();
    assertThat(wrong.err()).contains("the token is not valid").doesNotContain("at dev.stagefarm");
    assertThat(Files.exists(context.resolve("out.tar"))).isFalse();

    Run served = run(context, farm.inProcessClient(ApiClientFlags.withTokenFile(tokenFile("good.token", TOKEN))));
    assertThat(served.code()).as(served.err()).isZero();
    assertThat(served.out()).contains("image sha256:");
    assertThat(Files.size(context.resolve("out.tar"))).isPositive();
    // the in-process calls count as the farm's activity (its idle timeout), as the TCP port's do
    assertThat(farm.activity().lastMs()).isGreaterThan(before);
    assertThat(farm.activity().inFlight()).isZero();
  }

  private record Run(int code, String out, String err) {}

  /** {@code stagefarm build} as the local farm's run socket runs it: in this JVM, on the farm it is handed. */
  private static Run run(Path context, Farm through) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    RunContext run = new RunContext(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]),
        Map.of("STAGEFARM_HOME", dir.resolve("home").toString()), context, false, RunContext.SHUTDOWN_HOOK,
        Optional.of(settings -> Optional.of(through)));
    int code;
    try (through) {
      code = Main.execute(run, "build", "--progress", "plain", "-o", "type=oci,dest=out.tar", ".");
    }
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
