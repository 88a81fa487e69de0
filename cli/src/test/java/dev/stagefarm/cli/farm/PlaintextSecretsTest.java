package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildSecret;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.RegistryCredential;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Build secrets and registry credentials never cross the network in clear: over a plaintext
 * channel to a coordinator that is not on loopback, secrets are refused and registry credentials
 * left out. A real gRPC server on this machine's non-loopback address records what arrives.
 */
class PlaintextSecretsTest {
  private final List<SubmitBuildRequest> received = new CopyOnWriteArrayList<>();
  private Server server;
  private String address;

  @BeforeEach
  void startRecordingServer() throws Exception {
    InetAddress external = NetworkInterface.networkInterfaces()
        .filter(i -> {
          try {
            return i.isUp() && !i.isLoopback();
          } catch (java.net.SocketException e) {
            return false;
          }
        })
        .flatMap(NetworkInterface::inetAddresses)
        .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
        .findFirst().orElse(null);
    assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
    server = NettyServerBuilder.forAddress(new InetSocketAddress(external, 0))
        .addService(new BuildServiceGrpc.BuildServiceImplBase() {
          @Override
          public void submitBuild(SubmitBuildRequest request, StreamObserver<BuildStatus> response) {
            received.add(request);
            response.onNext(BuildStatus.newBuilder().setBuildId("b1").build());
            response.onCompleted();
          }
        })
        .build().start();
    address = external.getHostAddress() + ":" + server.getPort();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.shutdownNow();
    }
  }

  private static SubmitBuildRequest.Builder request() {
    return SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"));
  }

  @Test
  void buildSecretsAreRefusedBeforeAnythingIsSent() {
    try (RemoteFarm farm = RemoteFarm.connect(address)) {
      SubmitBuildRequest withSecret = request()
          .addSecrets(BuildSecret.newBuilder().setId("npm").setValue(ByteString.copyFromUtf8("s3cr3t"))).build();
      assertThatThrownBy(() -> new BuildClient(farm).submit(withSecret))
          .isInstanceOfSatisfying(UserError.class, e -> {
            assertThat(e.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(e.getMessage()).contains("refusing to send build secrets to " + address + " without TLS");
          });
    }
    assertThat(received).isEmpty();
  }

  @Test
  void registryCredentialsAreLeftOutAndTheBuildIsSentWithoutThem() {
    try (RemoteFarm farm = RemoteFarm.connect(address)) {
      new BuildClient(farm).submit(request().addRegistryCredentials(RegistryCredential.newBuilder()
          .setRegistry("registry.example:5000").setUsername("ci").setSecret("p4ss")).build());
    }
    assertThat(received).singleElement().satisfies(r -> {
      assertThat(r.getRegistryCredentialsCount()).isZero();
      assertThat(r.toString()).doesNotContain("p4ss");
    });
  }

  @Test
  void aLoopbackCoordinatorGetsThemWithoutTls() {
    assertThat(new ApiClientFlags().confidential("127.0.0.1")).isTrue();
    assertThat(new ApiClientFlags().confidential("localhost")).isTrue();
    assertThat(new ApiClientFlags().confidential(address.substring(0, address.lastIndexOf(':')))).isFalse();
  }
}
