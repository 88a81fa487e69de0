package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.BuildSession;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.CoordinatorNode;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.PushOptions;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryCredentials;
import dev.stagefarm.oci.registry.RegistrySettings;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.RegistryCredential;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registry credentials come from the build's client: a coordinator that has credentials for a
 * basic-auth registry configured (and `registry-credentials-fallback` off, the default) pulls and
 * pushes a private image for a client that sends them, and refuses the same image to a client that
 * sends none — its own credentials never serve another client's build.
 */
class RegistryCredentialsEndToEndTest {
  static final String USER = "team";
  static final String PASSWORD = "s3cret-" + UUID.randomUUID();

  @TempDir Path dir;

  @Test
  void aClientWithCredentialsPullsAndPushesAPrivateImageAndOneWithoutIsRefused() throws Exception {
    EmbeddedFarm farm = FarmUnderTest.farm();
    try (RegistryFixture privateRegistry = RegistryFixture.startWithBasicAuth(USER, PASSWORD)) {
      RegistryCredentials credentials = new RegistryCredentials(USER, PASSWORD);
      RegistrySettings withCredentials = privateRegistry.settings().withCredentials(privateRegistry.host(), credentials);
      ImageReference base = privateRegistry.reference("private/busybox:1");
      try (RegistryClient owner = new RegistryClient(withCredentials)) {
        owner.pushImage(base, BusyboxImage.manifestBytes(), BusyboxImage.layout(), PushOptions.MONOLITHIC);
      }

      try (BlobStore store = BlobStore.connect(new S3Config(farm.s3Endpoint(), EmbeddedS3.DEFAULT_ACCESS_KEY,
              EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedFarm.BUCKET, null));
          // the coordinator HAS the registry's credentials configured
          RegistryClient coordinatorRegistry = new RegistryClient(
              withCredentials.withInsecure(RegistryFixture.shared().host()));
          CoordinatorNode node = CoordinatorNode.start(
              new CoordinatorNode.Options(farm.kafkaBootstrap(), "stagefarm-coordinator-registry-credentials",
                  new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(20), 3),
                      Duration.ofMillis(500)), farm.farmKeys()),
              store, coordinatorRegistry, new StoreImageExporter(store),
              NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))) {
        String endpoint = "127.0.0.1:" + node.port();
        ManagedChannel channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
        try {
          BuildClient client = new BuildClient(channel, endpoint);
          RegistryCredential sent = RegistryCredential.newBuilder().setRegistry(privateRegistry.host())
              .setUsername(USER).setSecret(PASSWORD).build();
          String pushed = privateRegistry.host() + "/private/app:" + UUID.randomUUID().toString().substring(0, 8);

          BuildStatus withThem = build(client, base.toString(), pushed, List.of(sent));
          assertThat(withThem.getState()).as(withThem.getError()).isEqualTo(BuildState.SUCCEEDED);
          try (RegistryClient check = new RegistryClient(withCredentials)) {
            assertThat(check.resolve(ImageReference.parse(pushed), Platform.LINUX_AMD64).manifestDigest().toString())
                .isEqualTo(withThem.getImageDigest());
          }

          // the same private base, right after (the coordinator's recent-tag memory must not serve it)
          BuildStatus pullWithout = build(client, base.toString(), "", List.of());
          assertThat(pullWithout.getState()).isEqualTo(BuildState.FAILED);
          assertThat(pullWithout.getError()).contains("pulling base image " + base).contains("requires a user name and password")
              .doesNotContain(PASSWORD);

          // a public base, pushed to the private registry without credentials
          String publicBase = FarmUnderTest.busybox();
          BuildStatus pushWithout = build(client, publicBase, pushed + "-anon", List.of());
          assertThat(pushWithout.getState()).isEqualTo(BuildState.FAILED);
          assertThat(pushWithout.getError()).contains("pushing " + pushed + "-anon failed");
        } finally {
          channel.shutdownNow();
          channel.awaitTermination(5, TimeUnit.SECONDS);
        }
      }
    }
  }

  private BuildStatus build(BuildClient client, String base, String pushTo, List<RegistryCredential> credentials)
      throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx-" + UUID.randomUUID()));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM %s\nRUN echo %s > /x\n".formatted(base, UUID.randomUUID()));
    ScannedContext context = ContextScanner.scan(ctx);
    client.upload(context);
    SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFrom(Files.readAllBytes(ctx.resolve("Dockerfile"))))
        .setContextManifest(context.manifestDigest().toString())
        .addAllRegistryCredentials(credentials);
    if (!pushTo.isEmpty()) {
      request.addTags(pushTo);
      BuildSession.addOutputs(request, List.of(), true);
    }
    BuildStatus submitted = client.submit(request.build());
    return client.watch(submitted.getBuildId(), progress -> {});
  }
}
