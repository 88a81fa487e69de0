package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.grpc.auth.Caller;
import dev.stagefarm.coordinator.grpc.auth.TokenTable;
import dev.stagefarm.embedded.EmbeddedKafka;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cache mounts belong to the build's owner: on a farm with tokens (one worker, so every build sees
 * the same worker's cache mounts), alice and bob both use {@code --mount=type=cache,id=x}. Bob does
 * not see the file alice left there, nor alice bob's; alice's next build sees hers.
 */
class CacheMountScopeEndToEndTest {
  static final String ALICE = "alice-cache-token-9b1e";
  static final String BOB = "bob-cache-token-02fa";

  @TempDir Path dir;

  @Test
  void twoClientsWithTheSameCacheIdDoNotSeeEachOthersFilesAndOneClientSeesItsOwn() throws Exception {
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    Path tokens = Files.writeString(dir.resolve("tokens"), TokenTable.entryLine(ALICE, new Caller("alice",
        Caller.Role.CLIENT)) + "\n" + TokenTable.entryLine(BOB, new Caller("bob", Caller.Role.CLIENT)) + "\n");
    Path aliceToken = Files.writeString(dir.resolve("alice.token"), ALICE + "\n");
    Path bobToken = Files.writeString(dir.resolve("bob.token"), BOB + "\n");
    ApiSecurity security = new ApiSecurity(Optional.empty(), Optional.of(TokenTable.load(tokens)), Set.of(), 16);
    try (EmbeddedFarm farm = EmbeddedFarm.start(new EmbeddedFarm.Options(dir.resolve("home"), null, 1,
        RegistryFixture.shared().settings(), EmbeddedKafka.Settings.forTests(), PrivateFarm.COORDINATOR, 0,
        InProcessWorkers.launcher(), InetAddress.getLoopbackAddress(), security))) {
      String endpoint = farm.endpoint();

      // each RUN names a fresh nonce: none is a cache hit, every one runs against the mount
      assertThat(build(endpoint, aliceToken, busybox, "echo alice > /c/alice")).isZero();
      assertThat(build(endpoint, bobToken, busybox, "test ! -e /c/alice && echo bob > /c/bob"))
          .as("bob does not see alice's file").isZero();
      assertThat(build(endpoint, aliceToken, busybox, "test -e /c/alice && test ! -e /c/bob"))
          .as("alice sees her own file and not bob's").isZero();
      assertThat(build(endpoint, bobToken, busybox, "test -e /c/bob && test ! -e /c/alice"))
          .as("bob sees his own file").isZero();
    }
  }

  private int build(String endpoint, Path token, String base, String command) throws Exception {
    Path context = Files.createDirectories(dir.resolve("ctx-" + UUID.randomUUID()));
    Files.writeString(context.resolve("Dockerfile"), "FROM %s\nRUN --mount=type=cache,id=x,target=/c echo %s && %s\n"
        .formatted(base, UUID.randomUUID(), command));
    var result = FarmUnderTest.stagefarm("build", "--coordinator", endpoint, "--token-file", token.toString(),
        "--progress", "plain", context.toString());
    if (result.exitCode() != 0) {
      System.err.println(result.stderr());
    }
    return result.exitCode();
  }
}
