package dev.stagefarm.coordinator.grpc.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.grpc.BuildServiceImpl;
import dev.stagefarm.coordinator.grpc.CoordinatorServer;
import dev.stagefarm.coordinator.grpc.StoreAdministration;
import dev.stagefarm.coordinator.store.StoreCollector;
import dev.stagefarm.coordinator.store.StoreUsage;
import dev.stagefarm.coordinator.plan.BuildPlan;
import dev.stagefarm.coordinator.plan.BuildPlanner;
import dev.stagefarm.coordinator.plan.PlannedStage;
import dev.stagefarm.coordinator.port.InMemoryBuildJournal;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.coordinator.schedule.ManualClock;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildServiceGrpc.BuildServiceBlockingStub;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.CancelBuildRequest;
import dev.stagefarm.proto.v1.ExportImageRequest;
import dev.stagefarm.proto.v1.FindMissingBlobsRequest;
import dev.stagefarm.proto.v1.GetBuildRequest;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.proto.v1.PruneStoreRequest;
import dev.stagefarm.proto.v1.StoreUsageRequest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.proto.v1.WatchBuildRequest;
import dev.stagefarm.testkit.TestCertificates;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The BuildService behind TLS and client authentication, over a real netty server and real TLS
 * handshakes: who may call, which builds each caller sees, and the per-client build limit.
 */
class ApiAuthenticationTest {
  static final String ALICE_TOKEN = "alice-token-0123456789";
  static final String BOB_TOKEN = "bob-token-0123456789";
  static final String ADMIN_TOKEN = "ops-token-0123456789";

  @TempDir Path dir;
  TestCertificates farmCa;
  TestCertificates.Issued serverCert;
  final List<AutoCloseable> open = new ArrayList<>();
  /** The prunes that reached the content store. */
  final List<Optional<java.time.Duration>> prunes = new java.util.concurrent.CopyOnWriteArrayList<>();
  final StoreAdministration store = new StoreAdministration() {
    @Override
    public Usage usage() {
      return new Usage(List.of(new StoreUsage.Area("blobs", 3, 300)), new StoreCollector.Report(1, 2, 200, 1, true));
    }

    @Override
    public StoreCollector.Report prune(Optional<java.time.Duration> keepDuration, boolean dryRun) {
      prunes.add(keepDuration);
      return new StoreCollector.Report(1, 2, 200, 1, dryRun);
    }
  };

  @BeforeEach
  void certificates() {
    farmCa = TestCertificates.authority("farm", dir);
    serverCert = farmCa.server("coordinator");
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : open.reversed()) {
      closeable.close();
    }
  }

  /** One stage FROM scratch; no worker runs it, so every build stays RUNNING. */
  static final BuildPlanner ONE_STAGE = (buildId, request) -> {
    StageProgram program = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(), List.of(), List.of(),
        Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "only");
    PlannedStage stage = new PlannedStage("0", "0", 0, program, List.of(), Optional.of(
        new StageResult(List.of(), new byte[0], "scratch")), Optional.empty(), Map.of(), Map.of(), Optional.empty());
    return new BuildPlan(buildId, List.of(stage), "0");
  };

  TokenTable tokens() {
    return TokenTable.parse(String.join("\n",
        "# alice and bob build, ops watches everything",
        TokenTable.entryLine(ALICE_TOKEN, new Caller("alice", Caller.Role.CLIENT)),
        TokenTable.entryLine(BOB_TOKEN, new Caller("bob", Caller.Role.CLIENT)),
        TokenTable.entryLine(ADMIN_TOKEN, new Caller("ops", Caller.Role.ADMIN))));
  }

  /** Starts a coordinator with this security on a loopback port; returns the port. */
  int serve(ApiSecurity security) throws IOException {
    BuildCoordinator coordinator = new BuildCoordinator(Clock.systemUTC(), BuildCoordinator.Settings.DEFAULT,
        new InMemoryTaskQueue(), new InMemoryBuildJournal(), ONE_STAGE, (target, tags, push) -> "sha256:" + "a".repeat(64));
    open.add(coordinator);
    CoordinatorServer server = new CoordinatorServer(
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            security.serverCredentials()),
        new BuildServiceImpl(coordinator, new InMemoryContentStore(), (digest, format, tags, out) -> {},
            security.maxUnfinishedBuildsPerClient(), store),
        security).start();
    open.add(server);
    return server.port();
  }

  ApiSecurity tlsWithTokens(int maxBuilds) {
    return new ApiSecurity(Optional.of(new ApiSecurity.Tls(serverCert.cert(), serverCert.key(), Optional.empty())),
        Optional.of(tokens()), Set.of(), maxBuilds);
  }

  ApiSecurity mutualTls() {
    return new ApiSecurity(
        Optional.of(new ApiSecurity.Tls(serverCert.cert(), serverCert.key(), Optional.of(farmCa.caCert()))),
        Optional.empty(), Set.of("root"), ApiSecurity.DEFAULT_MAX_UNFINISHED_BUILDS);
  }

  BuildServiceBlockingStub client(int port, ChannelCredentials credentials) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", port, credentials).build();
    open.add(() -> {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    });
    return BuildServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  ChannelCredentials trustingFarm() {
    return tls(farmCa.caCert(), null);
  }

  /** TLS trusting {@code ca}, presenting {@code identity}'s certificate when not null. */
  static ChannelCredentials tls(Path ca, TestCertificates.Issued identity) {
    try {
      TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder().trustManager(ca.toFile());
      if (identity != null) {
        builder.keyManager(identity.cert().toFile(), identity.key().toFile());
      }
      return builder.build();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  BuildServiceBlockingStub withToken(int port, String token) {
    return client(port, trustingFarm()).withCallCredentials(bearer(token));
  }

  static CallCredentials bearer(String token) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(Authenticator.AUTHORIZATION, "Bearer " + token);
        applier.apply(headers);
      }
    };
  }

  static BuildStatus submit(BuildServiceBlockingStub client) {
    return client.submitBuild(SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("FROM scratch\n")).build());
  }

  static Status.Code code(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void aCallWithoutATokenIsUnauthenticatedSayingWhatIsMissing() throws Exception {
    int port = serve(tlsWithTokens(16));
    BuildServiceBlockingStub anonymous = client(port, trustingFarm());

    assertThatThrownBy(() -> anonymous.listBuilds(ListBuildsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("authentication required", "bearer token");
        });
    // content-addressed blobs too: nobody unauthenticated may probe or fill the store
    assertThat(code(() -> anonymous.findMissingBlobs(FindMissingBlobsRequest.newBuilder()
        .addDigests("sha256:" + "1".repeat(64)).build()))).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(code(() -> submit(anonymous))).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void aWrongTokenIsUnauthenticated() throws Exception {
    int port = serve(tlsWithTokens(16));
    BuildServiceBlockingStub guessing = withToken(port, ALICE_TOKEN + "x");

    assertThatThrownBy(() -> submit(guessing))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("token is not valid");
        });
    // the token file holds hashes: the hash itself is no token
    String hash = TokenTable.entryLine(ALICE_TOKEN, new Caller("alice", Caller.Role.CLIENT)).split(" ")[0];
    assertThat(code(() -> submit(withToken(port, hash)))).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void aClientSeesAndControlsOnlyItsOwnBuildsAndAnAdminAll() throws Exception {
    int port = serve(tlsWithTokens(16));
    BuildServiceBlockingStub alice = withToken(port, ALICE_TOKEN);
    BuildServiceBlockingStub bob = withToken(port, BOB_TOKEN);
    BuildServiceBlockingStub ops = withToken(port, ADMIN_TOKEN);

    BuildStatus build = submit(alice);
    String id = build.getBuildId();
    assertThat(build.getOwner()).isEqualTo("alice");
    String bobsOwn = submit(bob).getBuildId();

    // to bob, alice's build does not exist: the same answer as for an unknown id
    assertThat(code(() -> bob.getBuild(GetBuildRequest.newBuilder().setBuildId(id).build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> bob.watchBuild(WatchBuildRequest.newBuilder().setBuildId(id).build()).hasNext()))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> bob.cancelBuild(CancelBuildRequest.newBuilder().setBuildId(id).build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> bob.exportImage(ExportImageRequest.newBuilder().setBuildId(id).build()).hasNext()))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> bob.getBuild(GetBuildRequest.newBuilder().setBuildId("0123456789abcdef").build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(bob.listBuilds(ListBuildsRequest.getDefaultInstance()).getBuildsList())
        .extracting(BuildStatus::getBuildId).containsExactly(bobsOwn);
    // bob's cancel did nothing
    assertThat(alice.getBuild(GetBuildRequest.newBuilder().setBuildId(id).build()).getState())
        .isEqualTo(BuildState.RUNNING);

    // alice sees hers (its export is refused for having no image yet, not for being hidden)
    assertThat(alice.listBuilds(ListBuildsRequest.getDefaultInstance()).getBuildsList())
        .extracting(BuildStatus::getBuildId).containsExactly(id);
    assertThat(alice.watchBuild(WatchBuildRequest.newBuilder().setBuildId(id).build()).next().getSequence())
        .isPositive();
    assertThat(code(() -> alice.exportImage(ExportImageRequest.newBuilder().setBuildId(id).build()).hasNext()))
        .isEqualTo(Status.Code.FAILED_PRECONDITION);

    // the admin sees both and may cancel alice's
    assertThat(ops.listBuilds(ListBuildsRequest.getDefaultInstance()).getBuildsList())
        .extracting(BuildStatus::getBuildId).containsExactlyInAnyOrder(id, bobsOwn);
    assertThat(ops.cancelBuild(CancelBuildRequest.newBuilder().setBuildId(id).build()).getState())
        .isEqualTo(BuildState.CANCELLED);
    assertThat(alice.getBuild(GetBuildRequest.newBuilder().setBuildId(id).build()).getState())
        .isEqualTo(BuildState.CANCELLED);
  }

  @Test
  void onlyAnAdminMayReadTheStoresUsageOrPruneIt() throws Exception {
    int port = serve(tlsWithTokens(16));
    BuildServiceBlockingStub alice = withToken(port, ALICE_TOKEN);
    BuildServiceBlockingStub ops = withToken(port, ADMIN_TOKEN);

    assertThatThrownBy(() -> alice.pruneStore(PruneStoreRequest.newBuilder().setKeepDurationSeconds(0).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("pruning the content store is for admins", "alice");
        });
    assertThat(code(() -> alice.getStoreUsage(StoreUsageRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(prunes).isEmpty();

    assertThat(ops.getStoreUsage(StoreUsageRequest.getDefaultInstance()).getAreas(0).getBytes()).isEqualTo(300);
    assertThat(ops.pruneStore(PruneStoreRequest.newBuilder().setKeepDurationSeconds(0).build()).getObjectsDeleted())
        .isEqualTo(2);
    assertThat(ops.pruneStore(PruneStoreRequest.getDefaultInstance()).getDryRun()).isFalse();
    assertThat(prunes).containsExactly(Optional.of(java.time.Duration.ZERO), Optional.empty());
    assertThat(code(() -> ops.pruneStore(PruneStoreRequest.newBuilder().setKeepDurationSeconds(-1).build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void theUnfinishedBuildLimitPerClientIsResourceExhaustedNamingTheLimit() throws Exception {
    int port = serve(tlsWithTokens(2));
    BuildServiceBlockingStub alice = withToken(port, ALICE_TOKEN);
    BuildServiceBlockingStub bob = withToken(port, BOB_TOKEN);
    String first = submit(alice).getBuildId();
    submit(alice);

    assertThatThrownBy(() -> submit(alice))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription()).contains("max-builds-per-client is 2");
        });
    // the limit is per client: bob is not affected, and a finished build frees a place
    assertThat(submit(bob).getState()).isEqualTo(BuildState.RUNNING);
    alice.cancelBuild(CancelBuildRequest.newBuilder().setBuildId(first).build());
    assertThat(submit(alice).getState()).isEqualTo(BuildState.RUNNING);
  }

  @Test
  void aPlaintextClientAgainstTheTlsServerFailsClearly() throws Exception {
    int port = serve(tlsWithTokens(16));
    BuildServiceBlockingStub plaintext = client(port, InsecureChannelCredentials.create());

    assertThatThrownBy(() -> plaintext.listBuilds(ListBuildsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aClientThatDoesNotTrustTheServersCaIsRefusedInTheHandshake() throws Exception {
    int port = serve(tlsWithTokens(16));
    TestCertificates other = TestCertificates.authority("other", dir.resolve("other"));
    BuildServiceBlockingStub misconfigured =
        client(port, tls(other.caCert(), null))
            .withCallCredentials(bearer(ALICE_TOKEN));

    assertThat(code(() -> misconfigured.listBuilds(ListBuildsRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void mutualTlsTakesTheCertificatesCommonNameAsTheIdentity() throws Exception {
    int port = serve(mutualTls());
    TestCertificates.Issued carol = farmCa.client("carol");
    TestCertificates.Issued dave = farmCa.client("dave");
    TestCertificates.Issued root = farmCa.client("root");

    BuildServiceBlockingStub asCarol = client(port, tls(farmCa.caCert(), carol));
    BuildServiceBlockingStub asDave = client(port, tls(farmCa.caCert(), dave));
    BuildServiceBlockingStub asRoot = client(port, tls(farmCa.caCert(), root));

    BuildStatus build = submit(asCarol);
    assertThat(build.getOwner()).isEqualTo("carol");
    assertThat(code(() -> asDave.getBuild(GetBuildRequest.newBuilder().setBuildId(build.getBuildId()).build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(asRoot.getBuild(GetBuildRequest.newBuilder().setBuildId(build.getBuildId()).build()).getOwner())
        .as("an --admin-cn identity sees every build").isEqualTo("carol");
  }

  @Test
  void mutualTlsRefusesACertificateFromAnotherCaInTheHandshakeAndACallWithoutOne() throws Exception {
    int port = serve(mutualTls());
    // the attacker's CA has the farm CA's name, so the client offers its certificate and the
    // server has to check the signature (a CA of another name, the client would not even send)
    TestCertificates attacker = TestCertificates.authority("farm", dir.resolve("attacker"));
    TestCertificates.Issued forged = attacker.client("carol");

    BuildServiceBlockingStub foreign = client(port, tls(farmCa.caCert(), forged));
    assertThat(code(() -> submit(foreign))).as("refused in the handshake").isEqualTo(Status.Code.UNAVAILABLE);

    // no certificate at all: the handshake completes (a health probe has none), the call is refused
    BuildServiceBlockingStub noCertificate = client(port, trustingFarm());
    assertThat(code(() -> submit(noCertificate))).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void tokensAndClientCertificatesTogetherAcceptEitherButNotNeither() throws Exception {
    int port = serve(new ApiSecurity(
        Optional.of(new ApiSecurity.Tls(serverCert.cert(), serverCert.key(), Optional.of(farmCa.caCert()))),
        Optional.of(tokens()), Set.of(), 16));
    TestCertificates.Issued carol = farmCa.client("carol");
    TestCertificates attacker = TestCertificates.authority("farm", dir.resolve("attacker"));
    TestCertificates.Issued forged = attacker.client("carol");

    assertThat(submit(withToken(port, ALICE_TOKEN)).getOwner()).isEqualTo("alice");
    assertThat(submit(client(port, tls(farmCa.caCert(), carol))).getOwner()).isEqualTo("carol");
    assertThat(code(() -> submit(client(port, trustingFarm())))).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(code(() -> submit(client(port, tls(farmCa.caCert(), forged)))))
        .as("a certificate that does not verify is refused, even where certificates are optional")
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void aServerKeyThatCannotBeReadNamesTheFile() {
    ApiSecurity missing = new ApiSecurity(Optional.of(new ApiSecurity.Tls(serverCert.cert(),
        dir.resolve("nope-key.pem"), Optional.empty())), Optional.of(tokens()), Set.of(), 16);

    assertThatThrownBy(missing::serverCredentials).isInstanceOf(IOException.class).hasMessageContaining("nope-key.pem");
  }

  @Test
  void theTokenFileNamesTheLineThatIsWrong() throws Exception {
    Path file = Files.writeString(dir.resolve("tokens"), "# ok\n" + TokenTable.entryLine(ALICE_TOKEN,
        new Caller("alice", Caller.Role.CLIENT)) + "\n" + ALICE_TOKEN + " bob client\n");

    assertThatThrownBy(() -> TokenTable.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 3")
        .hasMessageContaining("sha256:<64 hex digits>");
    assertThatThrownBy(() -> TokenTable.parse("sha256:" + "a".repeat(64) + " alice root"))
        .hasMessageContaining("role must be client or admin");
  }

  @Test
  void anEditedTokenFileTakesEffectWithoutARestartAndRevokedOrExpiredTokensAreRefusedSayingSo() throws Exception {
    ManualClock clock = new ManualClock();
    Caller alice = new Caller("alice", Caller.Role.CLIENT);
    Caller bob = new Caller("bob", Caller.Role.CLIENT);
    java.time.Instant soon = clock.instant().plusSeconds(3600);
    Path file = Files.writeString(dir.resolve("tokens"), TokenTable.entryLine(ALICE_TOKEN, alice) + "\n"
        + TokenTable.entryLine(BOB_TOKEN, bob) + " expires=" + soon + "\n");
    int port = serve(new ApiSecurity(Optional.of(new ApiSecurity.Tls(serverCert.cert(), serverCert.key(),
        Optional.empty())), Optional.of(TokenTable.load(file, clock, java.time.Duration.ZERO)), Set.of(), 16));

    assertThat(submit(withToken(port, BOB_TOKEN)).getOwner()).isEqualTo("bob");
    assertThat(code(() -> submit(withToken(port, ADMIN_TOKEN)))).isEqualTo(Status.Code.UNAUTHENTICATED);

    // the operator adds ops, revokes alice by deleting her line: no restart
    Files.writeString(file, TokenTable.entryLine(BOB_TOKEN, bob) + " expires=" + soon + "\n"
        + TokenTable.entryLine(ADMIN_TOKEN, new Caller("ops", Caller.Role.ADMIN)) + "\n");
    assertThat(submit(withToken(port, ADMIN_TOKEN)).getOwner()).isEqualTo("ops");
    assertRefused(withToken(port, ALICE_TOKEN), "revoked");

    // bob's token expires
    clock.advance(java.time.Duration.ofSeconds(3600));
    assertRefused(withToken(port, BOB_TOKEN), "expired at " + soon);

    // a revoked line is refused as such; a broken edit keeps the tokens in force
    Files.writeString(file, TokenTable.entryLine(ADMIN_TOKEN, new Caller("ops", Caller.Role.ADMIN)) + " revoked\n");
    assertRefused(withToken(port, ADMIN_TOKEN), "token of \"ops\" has been revoked");
    Files.writeString(file, "this is not a token line\n");
    assertRefused(withToken(port, ADMIN_TOKEN), "token of \"ops\" has been revoked");
  }

  @Test
  void anExpiryMustBeAnInstantOrADate() {
    String line = TokenTable.entryLine(ALICE_TOKEN, new Caller("alice", Caller.Role.CLIENT));
    assertThat(TokenTable.parse(line + " expires=2027-01-31").size()).isEqualTo(1);
    assertThatThrownBy(() -> TokenTable.parse(line + " expires=next-week"))
        .hasMessageContaining("line 1").hasMessageContaining("ISO-8601");
    assertThatThrownBy(() -> TokenTable.parse(line + " forever")).hasMessageContaining("neither expires=");
  }

  static void assertRefused(BuildServiceBlockingStub client, String reason) {
    assertThatThrownBy(() -> submit(client)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(e.getStatus().getDescription()).contains(reason);
    });
  }
}
