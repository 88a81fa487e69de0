package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.ApiClientFlags;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.grpc.auth.Caller;
import dev.stagefarm.coordinator.grpc.auth.TokenTable;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.testkit.RegistryFixture;
import dev.stagefarm.testkit.TestCertificates;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC API with TLS and tokens, end to end: a coordinator with a TLS port and a token file on
 * the shared embedded farm (real Kafka, S3, runc workers), driven through {@code stagefarm build};
 * and {@code stagefarm coordinator} without authentication, which listens on loopback only.
 */
class AuthenticatedApiEndToEndTest {
  static final String ALICE = "alice-e2e-token-4f1c9a";
  static final String BOB = "bob-e2e-token-77d2e0";

  @TempDir Path dir;

  @Test
  void buildsGoThroughTlsWithATokenAndEachClientSeesOnlyItsOwn() throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    TestCertificates ca = TestCertificates.authority("farm", dir.resolve("pki"));
    TestCertificates.Issued server = ca.server("coordinator");
    Path tokens = Files.writeString(dir.resolve("tokens"), String.join("\n",
        TokenTable.entryLine(ALICE, new Caller("alice", Caller.Role.CLIENT)),
        TokenTable.entryLine(BOB, new Caller("bob", Caller.Role.CLIENT))) + "\n");
    Path aliceToken = Files.writeString(dir.resolve("alice.token"), ALICE + "\n");
    Path bobToken = Files.writeString(dir.resolve("bob.token"), BOB + "\n");
    ApiSecurity security = new ApiSecurity(
        Optional.of(new ApiSecurity.Tls(server.cert(), server.key(), Optional.empty())),
        Optional.of(TokenTable.load(tokens)), Set.of(), 4);
    Path context = Files.createDirectories(dir.resolve("context"));
    Files.writeString(context.resolve("Dockerfile"),
        "FROM %s\nRUN echo owned > /owned\n".formatted(FarmUnderTest.busybox()));

    try (BlobStore store = BlobStore.connect(new S3Config(farm.s3Endpoint(), EmbeddedS3.DEFAULT_ACCESS_KEY,
            EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedFarm.BUCKET, null));
        RegistryClient registry = new RegistryClient(RegistryFixture.shared().settings());
        CoordinatorNode node = CoordinatorNode.start(
            new CoordinatorNode.Options(farm.kafkaBootstrap(), "stagefarm-coordinator-auth-test",
                new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(20), 3), Duration.ofMillis(500)),
                farm.farmKeys()),
            store, registry, new StoreImageExporter(store),
            NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                security.serverCredentials()),
            security)) {
      String endpoint = "127.0.0.1:" + node.port();

      var built = FarmUnderTest.stagefarm("build", "--coordinator", endpoint, "--tls-ca", ca.caCert().toString(),
          "--token-file", aliceToken.toString(), "--progress", "plain", context.toString());
      assertThat(built.exitCode()).as(built.stderr()).isZero();
      assertThat(built.stdout()).contains("image sha256:");

      // alice's build is alice's: bob sees nothing of it
      List<BuildStatus> alices = list(endpoint, ca.caCert(), aliceToken);
      assertThat(alices).hasSize(1);
      assertThat(alices.get(0).getOwner()).isEqualTo("alice");
      String id = alices.get(0).getBuildId();
      assertThat(list(endpoint, ca.caCert(), bobToken)).isEmpty();
      try (RemoteFarm asBob = RemoteFarm.connect(endpoint, clientFlags(ca.caCert(), bobToken))) {
        BuildClient bob = new BuildClient(asBob.channel(), endpoint);
        assertThatThrownBy(() -> bob.getBuild(id)).isInstanceOf(UserError.class).hasMessageContaining("no build " + id);
        assertThatThrownBy(() -> bob.export(id, "oci", new ByteArrayOutputStream()))
            .isInstanceOf(UserError.class).hasMessageContaining("no build " + id);
      }

      var noToken = FarmUnderTest.stagefarm("build", "--coordinator", endpoint, "--tls-ca", ca.caCert().toString(),
          "--progress", "plain", context.toString());
      assertOneLineError(noToken, "authentication required");

      Path wrong = Files.writeString(dir.resolve("wrong.token"), ALICE + "-not");
      var wrongToken = FarmUnderTest.stagefarm("build", "--coordinator", endpoint, "--tls-ca", ca.caCert().toString(),
          "--token-file", wrong.toString(), "--progress", "plain", context.toString());
      assertOneLineError(wrongToken, "the token is not valid for this coordinator");

      var plaintext = FarmUnderTest.stagefarm("build", "--coordinator", endpoint, "--token-file", aliceToken.toString(),
          "--progress", "plain", context.toString());
      assertOneLineError(plaintext, "if the coordinator uses TLS, pass --tls-ca FILE or --tls");

      TestCertificates other = TestCertificates.authority("other", dir.resolve("other"));
      var untrusted = FarmUnderTest.stagefarm("build", "--coordinator", endpoint, "--tls-ca", other.caCert().toString(),
          "--token-file", aliceToken.toString(), "--progress", "plain", context.toString());
      assertOneLineError(untrusted, "TLS handshake failed: the coordinator's certificate is not trusted");

      // a token never leaves without TLS for a host that is not loopback (refused before connecting)
      var cleartext = FarmUnderTest.stagefarm("build", "--coordinator", "coordinator.invalid:7070", "--token-file",
          aliceToken.toString(), context.toString());
      // the client refuses before it connects: a usage error (exit 2), not the farm's
      assertThat(cleartext.exitCode()).as(cleartext.stderr()).isEqualTo(dev.stagefarm.cli.ExitCodes.USAGE);
      assertThat(cleartext.stderr()).contains("error: refusing to send the token to coordinator.invalid without TLS")
          .doesNotContain("\tat ", "(internal error");
    }
  }

  @Test
  void theCoordinatorCommandWithoutAuthenticationListensOnLoopbackOnly() throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    Optional<InetAddress> external = EmbeddedFarmListenerTest.nonLoopbackAddress();
    assumeThat(external).as("this host has a non-loopback IPv4 address").isPresent();
    Path farmKey = dir.resolve("farm.key");
    FarmKeys.loadOrCreate(farmKey);
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    AtomicInteger exit = new AtomicInteger(-1);
    Thread coordinator = Thread.ofPlatform().name("stagefarm-coordinator-under-test").start(() -> exit.set(
        Main.execute("coordinator", "--kafka", farm.kafkaBootstrap(), "--s3-endpoint", farm.s3Endpoint(),
            "--s3-access-key", EmbeddedS3.DEFAULT_ACCESS_KEY, "--s3-secret-key", EmbeddedS3.DEFAULT_SECRET_KEY,
            "--bucket", EmbeddedFarm.BUCKET, "--farm-key-file", farmKey.toString(), "--port", String.valueOf(port),
            "--no-create-topics")));
    try {
      awaitListening(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), coordinator);
      assertThatThrownBy(() -> {
        try (Socket outside = new Socket()) {
          outside.connect(new InetSocketAddress(external.get(), port), 5_000);
        }
      }).as("the host's own address %s", external.get()).isInstanceOf(IOException.class);
    } finally {
      coordinator.interrupt();
      coordinator.join(30_000);
    }
    assertThat(exit.get()).isZero();
  }

  static ApiClientFlags clientFlags(Path ca, Path tokenFile) {
    ApiClientFlags flags = new ApiClientFlags();
    new picocli.CommandLine(flags).parseArgs("--tls-ca", ca.toString(), "--token-file", tokenFile.toString());
    return flags;
  }

  static List<BuildStatus> list(String endpoint, Path ca, Path tokenFile) {
    try (RemoteFarm remote = RemoteFarm.connect(endpoint, clientFlags(ca, tokenFile))) {
      return BuildServiceGrpc.newBlockingStub(remote.channel()).listBuilds(ListBuildsRequest.getDefaultInstance())
          .getBuildsList();
    }
  }

  /** A refused or unreachable farm is the farm's failure, not the build's: exit 3 (docs/cli.md, "Exit codes"). */
  static void assertOneLineError(FarmUnderTest.Result run, String message) {
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(dev.stagefarm.cli.ExitCodes.FARM_FAILED);
    assertThat(run.stderr()).contains("error: ").contains(message).doesNotContain("\tat ", "(internal error");
  }

  static void awaitListening(InetSocketAddress address, Thread server) throws InterruptedException {
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < 600 && server.isAlive(); i++) {
      try (Socket socket = new Socket()) {
        socket.connect(address, 1_000);
        return;
      } catch (IOException e) {
        failures.add(e.getMessage());
        Thread.sleep(100);
      }
    }
    throw new AssertionError("the coordinator never listened on " + address + ": " + failures.getLast());
  }
}
