package dev.stagefarm.cli.e2e;

import static io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING;
import static io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
import static java.util.concurrent.TimeUnit.SECONDS;
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
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
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

  /**
   * A probe (grpc_health_probe, a Kubernetes gRPC probe) asks the standard health service without a
   * token or a client certificate and gets SERVING from the active coordinator, NOT_SERVING from a
   * standby; every other method still refuses such a caller.
   */
  @Test
  void healthAnswersAProbeWithoutCredentialsWhileEveryOtherMethodStillRefusesIt() throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    TestCertificates ca = TestCertificates.authority("farm", dir.resolve("pki"));
    TestCertificates.Issued server = ca.server("coordinator");
    TestCertificates.Issued carol = ca.client("carol");
    // the active coordinator takes client certificates only (mTLS); the standby takes tokens over TLS
    ApiSecurity mutualTls = new ApiSecurity(
        Optional.of(new ApiSecurity.Tls(server.cert(), server.key(), Optional.of(ca.caCert()))),
        Optional.empty(), Set.of(), 4);
    ApiSecurity tokens = new ApiSecurity(Optional.of(new ApiSecurity.Tls(server.cert(), server.key(), Optional.empty())),
        Optional.of(TokenTable.parse(TokenTable.entryLine(ALICE, new Caller("alice", Caller.Role.CLIENT)))), Set.of(), 4);
    String group = "stagefarm-coordinator-health-test";
    try (BlobStore store = BlobStore.connect(new S3Config(farm.s3Endpoint(), EmbeddedS3.DEFAULT_ACCESS_KEY,
            EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedFarm.BUCKET, null));
        RegistryClient registry = new RegistryClient(RegistryFixture.shared().settings());
        CoordinatorNode active = startNode(farm, group, store, registry, mutualTls);
        CoordinatorNode standby = startNode(farm, group, store, registry, tokens)) {
      assertThat(active.isActive()).isTrue();
      assertThat(standby.isActive()).isFalse();
      io.grpc.ChannelCredentials probe = io.grpc.TlsChannelCredentials.newBuilder()
          .trustManager(ca.caCert().toFile()).build(); // TLS, no certificate, no token
      io.grpc.ManagedChannel toActive = NettyChannelBuilder.forAddress("localhost", active.port(), probe).build();
      io.grpc.ManagedChannel toStandby = NettyChannelBuilder.forAddress("localhost", standby.port(), probe).build();
      try {
        var activeHealth = io.grpc.health.v1.HealthGrpc.newBlockingStub(toActive).withDeadlineAfter(30, SECONDS);
        var standbyHealth = io.grpc.health.v1.HealthGrpc.newBlockingStub(toStandby).withDeadlineAfter(30, SECONDS);
        var any = io.grpc.health.v1.HealthCheckRequest.getDefaultInstance();
        assertThat(activeHealth.check(any).getStatus()).isEqualTo(SERVING);
        assertThat(standbyHealth.check(any).getStatus()).isEqualTo(NOT_SERVING);
        var buildService = io.grpc.health.v1.HealthCheckRequest.newBuilder()
            .setService(BuildServiceGrpc.SERVICE_NAME).build();
        assertThat(activeHealth.check(buildService).getStatus()).isEqualTo(SERVING);
        // Watch: the stream's first message is the current status
        assertThat(activeHealth.watch(any).next().getStatus()).isEqualTo(SERVING);
        assertThat(standbyHealth.watch(any).next().getStatus()).isEqualTo(NOT_SERVING);

        var unauthenticated = BuildServiceGrpc.newBlockingStub(toActive).withDeadlineAfter(30, SECONDS);
        assertThatThrownBy(() -> unauthenticated.submitBuild(dev.stagefarm.proto.v1.SubmitBuildRequest.newBuilder()
                .setDockerfile(com.google.protobuf.ByteString.copyFromUtf8("FROM scratch\n")).build()))
            .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                .isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED));
        assertThatThrownBy(() -> BuildServiceGrpc.newBlockingStub(toStandby).withDeadlineAfter(30, SECONDS)
                .listBuilds(ListBuildsRequest.getDefaultInstance()))
            .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                .isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED));

        // the same port still serves a caller with a certificate
        io.grpc.ManagedChannel asCarol = NettyChannelBuilder.forAddress("localhost", active.port(),
            io.grpc.TlsChannelCredentials.newBuilder().trustManager(ca.caCert().toFile())
                .keyManager(carol.cert().toFile(), carol.key().toFile()).build()).build();
        try {
          assertThat(BuildServiceGrpc.newBlockingStub(asCarol).withDeadlineAfter(30, SECONDS)
              .listBuilds(ListBuildsRequest.getDefaultInstance()).getBuildsList()).isEmpty();
        } finally {
          asCarol.shutdownNow();
        }
      } finally {
        toActive.shutdownNow();
        toStandby.shutdownNow();
      }
    }
  }

  private static CoordinatorNode startNode(EmbeddedFarm farm, String group, BlobStore store, RegistryClient registry,
      ApiSecurity security) throws Exception {
    return CoordinatorNode.start(
        new CoordinatorNode.Options(farm.kafkaBootstrap(), group,
            new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(20), 3), Duration.ofMillis(500)),
            farm.farmKeys()),
        store, registry, new StoreImageExporter(store),
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            security.serverCredentials()),
        security);
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
