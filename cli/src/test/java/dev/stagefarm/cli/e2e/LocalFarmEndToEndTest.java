package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.e2e.LocalFarmClients.Run;
import dev.stagefarm.cli.farm.LocalFarmState;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local background farm, through real client processes (each a {@code stagefarm build} with
 * its own JVM, as a user runs them): started once, reused, secured by its token, stopped on
 * request or when idle, and replaced when dead or started with other settings.
 */
class LocalFarmEndToEndTest {
  @TempDir Path dir;

  private final LocalFarmClients clients = new LocalFarmClients(() -> dir);

  @AfterEach
  void stopTheFarm() throws Exception {
    clients.stop();
  }

  private Path context() throws Exception {
    return clients.context("ctx", "FROM scratch\nCOPY a.txt /a.txt\n");
  }

  private int starts() throws Exception {
    Matcher m = Pattern.compile("local farm starting").matcher(Files.readString(clients.state().log()));
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  private static boolean exited(long pid) throws Exception {
    return LocalFarmClients.exited(pid, Duration.ofSeconds(30));
  }

  @Test
  void twoFirstBuildsStartOneFarmThatLaterBuildsReuseAndThatOnlyItsTokenOpens() throws Exception {
    Path ctx = context();
    Process first = clients.startJvmClient(dir, "build", "--progress", "plain", ctx.toString());
    Process second = clients.startJvmClient(dir, "build", "--progress", "plain", ctx.toString());
    Run one = clients.finish(first);
    Run two = clients.finish(second);
    assertThat(one.exitCode()).as(one.output()).isZero();
    assertThat(two.exitCode()).as(two.output()).isZero();
    assertThat(starts()).isEqualTo(1);
    LocalFarmState.Running running = clients.state().read().orElseThrow();

    Run third = clients.jvmClient(dir, "build", "--progress", "plain", ctx.toString());
    assertThat(third.exitCode()).as(third.output()).isZero();
    assertThat(third.output()).doesNotContain("starting the local farm");
    assertThat(clients.state().read().orElseThrow().pid()).isEqualTo(running.pid());
    assertThat(starts()).isEqualTo(1);

    // the token is the user's alone, and the port answers nobody without it
    assertThat(Files.getPosixFilePermissions(clients.state().token())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(clients.state().dir())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", running.port()).usePlaintext().build();
    try {
      var stub = BuildServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      assertThatThrownBy(() -> stub.listBuilds(ListBuildsRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      Metadata wrong = new Metadata();
      wrong.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer not-the-token");
      assertThatThrownBy(() -> stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong))
              .listBuilds(ListBuildsRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      Metadata right = new Metadata();
      right.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
          "Bearer " + Files.readString(clients.state().token()).strip());
      assertThat(stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(right))
          .listBuilds(ListBuildsRequest.getDefaultInstance()).getBuildsCount()).isEqualTo(3);
    } finally {
      channel.shutdownNow();
    }

    Run status = clients.jvmClient(dir, "farm", "status");
    assertThat(status.exitCode()).isZero();
    assertThat(status.output()).contains("running: pid " + running.pid() + ", 127.0.0.1:" + running.port())
        .contains("unfinished builds: 0");
    assertThat(clients.jvmClient(dir, "farm", "stop").output()).contains("stopped");
    assertThat(exited(running.pid())).isTrue();
    Run after = clients.jvmClient(dir, "farm", "status");
    assertThat(after.exitCode()).isEqualTo(3);
    assertThat(after.output()).startsWith("not running");
    assertThat(clients.jvmClient(dir, "farm", "stop").output()).contains("not running");
  }

  @Test
  void aDeadFarmIsReplacedOtherSettingsRestartItAndAnIdleFarmStopsItself() throws Exception {
    Path ctx = context();
    // what a farm killed with SIGKILL leaves: its state and token, a lock nobody holds, a pid that is gone
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    clients.state().create();
    Files.createFile(clients.state().dir().resolve(LocalFarmState.LOCK));
    clients.state().write(new LocalFarmState.Running(gone.pid(), 1, "workers=2 registry= cli=old", 0, Duration.ofHours(1)));
    clients.state().writeToken("stale");

    Run replaced = clients.jvmClient(dir, "build", "--progress", "plain", ctx.toString());
    assertThat(replaced.exitCode()).as(replaced.output()).isZero();
    assertThat(replaced.output()).contains("starting the local farm");
    LocalFarmState.Running first = clients.state().read().orElseThrow();
    assertThat(first.pid()).isNotEqualTo(gone.pid());
    assertThat(Files.readString(clients.state().token()).strip()).isNotEqualTo("stale");

    // another worker count: the idle farm is replaced (this one stops itself after 15 s without builds)
    Run restarted = clients.jvmClient(dir, "build", "--progress", "plain", "--workers", "1", "--farm-idle-timeout", "15s",
        ctx.toString());
    assertThat(restarted.exitCode()).as(restarted.output()).isZero();
    assertThat(restarted.output()).contains("restarting the local farm with other settings (workers=1");
    assertThat(exited(first.pid())).isTrue();
    LocalFarmState.Running second = clients.state().read().orElseThrow();
    assertThat(second.pid()).isNotEqualTo(first.pid());
    assertThat(second.settings()).startsWith("workers=1 ");

    assertThat(LocalFarmClients.exited(second.pid(), Duration.ofMinutes(2))).as("stopped itself").isTrue();
    assertThat(clients.state().read()).isEmpty();
    assertThat(Files.exists(clients.state().token())).isFalse();
    assertThat(Files.readString(clients.state().log())).contains("idle for PT15S: stopping");
  }
}
