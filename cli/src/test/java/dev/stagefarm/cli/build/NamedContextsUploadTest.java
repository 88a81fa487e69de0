package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.FindMissingBlobsRequest;
import dev.stagefarm.proto.v1.FindMissingBlobsResponse;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.proto.v1.UploadBlobsResponse;
import dev.stagefarm.proto.v1.UploadChunk;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --build-context NAME=oci-layout://DIR}: the layout is read and every blob hashed once, when
 * the flags are checked; the upload sends what that check read, and the farm (here a gRPC service
 * that, as the coordinator, refuses a blob whose bytes do not have its digest) verifies what it gets.
 */
class NamedContextsUploadTest {
  private final Map<String, byte[]> received = new ConcurrentHashMap<>();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void startFarm() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(new VerifyingUploads()).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stopFarm() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void theUploadSendsTheBlobsCheckedAtStartWithoutReadingTheLayoutAgain(@TempDir Path dir) throws Exception {
    Path layout = dir.resolve("layout");
    Digest root = writeLayout(layout);
    NamedContexts checked = BuildSession.namedContexts(Map.of("img", "oci-layout://layout"), dir);
    // what the check read is what is sent: the layout's index is not read (nor its blobs hashed) again
    Files.delete(layout.resolve("index.json"));
    Files.delete(layout.resolve("oci-layout"));

    SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder();
    new BuildSession(new BuildClient(channel, "in-process")).addNamedContexts(request, checked);

    assertThat(checked.values()).containsEntry("img", "oci-layout://" + layout + "@" + root);
    assertThat(request.getNamedContextsMap()).containsExactly(Map.entry("img", "oci-layout://" + root));
    assertThat(received).hasSize(3).containsKey(root.toString());
  }

  /** A one-layer image: config, layer and manifest blobs, index.json naming the manifest. */
  private static Digest writeLayout(Path layout) throws Exception {
    Path blobs = Files.createDirectories(layout.resolve("blobs/sha256"));
    Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    Descriptor config = blob(blobs, MediaTypes.OCI_CONFIG, "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(
        StandardCharsets.UTF_8));
    Descriptor layer = blob(blobs, MediaTypes.OCI_LAYER_TAR_GZIP, new byte[] {1, 2, 3, 4});
    Descriptor manifest = blob(blobs, MediaTypes.OCI_MANIFEST,
        ImageJson.writeManifest(ImageManifest.oci(config, List.of(layer))));
    Files.write(layout.resolve("index.json"), ImageJson.writeIndex(ImageIndex.oci(List.of(manifest))));
    return manifest.digest();
  }

  private static Descriptor blob(Path blobs, String mediaType, byte[] bytes) throws Exception {
    Digest digest = Digest.of(bytes);
    Files.write(blobs.resolve(digest.hex()), bytes);
    return new Descriptor(mediaType, digest, bytes.length);
  }

  /** Every blob is missing; each one received is checked against its digest, as the coordinator does. */
  private final class VerifyingUploads extends BuildServiceGrpc.BuildServiceImplBase {
    @Override
    public void findMissingBlobs(FindMissingBlobsRequest request, StreamObserver<FindMissingBlobsResponse> response) {
      response.onNext(FindMissingBlobsResponse.newBuilder().addAllMissing(request.getDigestsList()).build());
      response.onCompleted();
    }

    @Override
    public StreamObserver<UploadChunk> uploadBlobs(StreamObserver<UploadBlobsResponse> response) {
      return new StreamObserver<>() {
        private String digest;
        private ByteString data = ByteString.EMPTY;
        private boolean failed;

        @Override
        public void onNext(UploadChunk chunk) {
          if (!chunk.getDigest().isEmpty()) {
            digest = chunk.getDigest();
            data = ByteString.EMPTY;
          }
          data = data.concat(chunk.getData());
          if (chunk.getLast()) {
            byte[] bytes = data.toByteArray();
            if (!Digest.of(bytes).toString().equals(digest)) {
              failed = true;
              response.onError(Status.INVALID_ARGUMENT.withDescription(digest + " does not match").asException());
              return;
            }
            received.put(digest, bytes);
          }
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          if (!failed) {
            response.onNext(UploadBlobsResponse.newBuilder().setBlobs(received.size()).build());
            response.onCompleted();
          }
        }
      };
    }
  }
}
