package dev.stagefarm.coordinator.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.plan.BaseImageResolver;
import dev.stagefarm.coordinator.plan.DockerfilePlanner;
import dev.stagefarm.coordinator.plan.PlanningException;
import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.coordinator.port.InMemoryBuildJournal;
import dev.stagefarm.coordinator.port.InMemoryCacheRecords;
import dev.stagefarm.coordinator.port.InMemoryContentStore;
import dev.stagefarm.coordinator.port.InMemoryTaskQueue;
import dev.stagefarm.coordinator.store.S3ContentStore;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.RetryPolicy;
import dev.stagefarm.oci.store.S3Config;
import dev.stagefarm.oci.store.StoreOptions;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.FindMissingBlobsRequest;
import dev.stagefarm.proto.v1.GetBuildRequest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.proto.v1.UploadBlobsResponse;
import dev.stagefarm.proto.v1.UploadChunk;
import dev.stagefarm.testkit.S3Fixture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import dev.stagefarm.coordinator.plan.ContextManifests;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The BuildService's status codes over the in-process transport: what the client sent wrong is
 * INVALID_ARGUMENT, a content store that cannot be reached is UNAVAILABLE (the client may retry),
 * and a build that cannot be planned is a FAILED build, never UNKNOWN.
 */
@ExtendWith(S3Fixture.class)
class BuildServiceImplTest {
  static final BaseImageResolver NO_IMAGES = (reference, platform) -> {
    throw new PlanningException("no registry in this test: " + reference);
  };

  final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : open.reversed()) {
      closeable.close();
    }
  }

  /** A service over the given content store, with in-memory queue, journal and cache. */
  BuildServiceGrpc.BuildServiceBlockingStub blockingClient(ContentStore content) throws IOException {
    return BuildServiceGrpc.newBlockingStub(channel(content)).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  ManagedChannel channel(ContentStore content) throws IOException {
    return channel(content, RequestLimits.DEFAULT, Path.of(System.getProperty("java.io.tmpdir")));
  }

  ManagedChannel channel(ContentStore content, RequestLimits limits, Path spoolDir) throws IOException {
    BuildCoordinator coordinator = new BuildCoordinator(
        Clock.systemUTC(),
        BuildCoordinator.Settings.DEFAULT,
        new InMemoryTaskQueue(),
        new InMemoryBuildJournal(),
        new DockerfilePlanner(content, new InMemoryCacheRecords(), NO_IMAGES),
        (target, tags, push) -> {
          throw new IOException("no assembly in this test");
        });
    open.add(coordinator);
    String name = InProcessServerBuilder.generateName();
    CoordinatorServer server = new CoordinatorServer(
        InProcessServerBuilder.forName(name).directExecutor(),
        new BuildServiceImpl(coordinator, content, (digest, format, tags, out) -> {}, limits, spoolDir))
        .start();
    open.add(server);
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    open.add(() -> channel.shutdownNow());
    return channel;
  }

  /** Uploads the blob in one chunk under the digest given, and waits for the reply. */
  UploadBlobsResponse upload(ManagedChannel channel, String digest, byte[] content) throws Exception {
    return upload(channel, List.of(UploadChunk.newBuilder().setDigest(digest).setSize(content.length)
        .setData(ByteString.copyFrom(content)).setLast(true).build()));
  }

  /** Sends the chunks in one call and waits for the reply. */
  UploadBlobsResponse upload(ManagedChannel channel, List<UploadChunk> sent) throws Exception {
    CompletableFuture<UploadBlobsResponse> reply = new CompletableFuture<>();
    StreamObserver<UploadChunk> chunks = BuildServiceGrpc.newStub(channel).uploadBlobs(new StreamObserver<>() {
      @Override
      public void onNext(UploadBlobsResponse response) {
        reply.complete(response);
      }

      @Override
      public void onError(Throwable t) {
        reply.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    sent.forEach(chunks::onNext);
    chunks.onCompleted();
    try {
      return reply.get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  /** A store on an endpoint nobody listens on: every request is refused, as when S3 is down. */
  static S3ContentStore unreachableStore(S3Config reachable) throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    S3Config down = new S3Config("http://127.0.0.1:" + port, reachable.accessKey(), reachable.secretKey(),
        reachable.bucket());
    // retried like a real store, briefly: a refused connection is transient
    BlobStore store = BlobStore.connect(down,
        StoreOptions.DEFAULT.withRetry(new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(10))));
    return new S3ContentStore(store);
  }

  @Test
  void anUploadThatMatchesItsDigestIsStored(BlobStore store) throws Exception {
    byte[] content = "hello context".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(content);

    UploadBlobsResponse response = upload(channel(new S3ContentStore(store)), digest.toString(), content);

    assertThat(response.getBlobs()).isEqualTo(1);
    assertThat(store.exists(Namespace.CONTEXT, digest)).isTrue();
  }

  @Test
  void anUploadWhoseBytesDoNotMatchItsDigestIsAnInvalidArgument(BlobStore store) throws IOException {
    byte[] content = "the bytes sent".getBytes(StandardCharsets.UTF_8);
    Digest claimed = Digest.of("other bytes");
    ManagedChannel channel = channel(new S3ContentStore(store));

    assertThatThrownBy(() -> upload(channel, claimed.toString(), content))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("uploading " + claimed + " failed: ");
        });
    assertThat(store.exists(Namespace.CONTEXT, claimed)).isFalse();
  }

  @Test
  void anUploadUnderAMalformedDigestIsAnInvalidArgument(BlobStore store) throws IOException {
    ManagedChannel channel = channel(new S3ContentStore(store));

    assertThatThrownBy(() -> upload(channel, "sha256:not-hex", new byte[] {1}))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void anUploadToAnUnreachableStoreIsUnavailableSoTheClientMayRetry(S3Config config) throws IOException {
    byte[] content = "hello context".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(content);
    ManagedChannel channel = channel(unreachableStore(config));

    assertThatThrownBy(() -> upload(channel, digest.toString(), content))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).startsWith("uploading " + digest + " failed: S3 ");
        });
  }

  @Test
  void checkingForMissingBlobsOnAnUnreachableStoreIsUnavailable(S3Config config) throws IOException {
    var client = blockingClient(unreachableStore(config));

    assertThatThrownBy(() -> client.findMissingBlobs(
            FindMissingBlobsRequest.newBuilder().addDigests(Digest.of("x").toString()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void askingForAMalformedDigestIsAnInvalidArgument() throws IOException {
    var client = blockingClient(new InMemoryContentStore());

    assertThatThrownBy(() -> client.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addDigests("md5:x").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void aDockerfileTooDeeplyNestedToPlanFailsTheBuildWithAMessage() throws IOException {
    // 3,000 substitutions within substitutions in one ARG default
    String nested = "${a:-".repeat(3000) + "x" + "}".repeat(3000);
    String dockerfile = "FROM scratch\nARG DEEP=" + nested + "\nRUN echo $DEEP\n";
    var client = blockingClient(new InMemoryContentStore());

    BuildStatus submitted = client.submitBuild(
        SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8(dockerfile)).build());

    assertThat(submitted.getState()).isEqualTo(BuildState.FAILED);
    // the frontend's expansion limit names the line; no stack overflows on the gRPC thread
    assertThat(submitted.getError()).isEqualTo("Dockerfile:2: variable expansion nested deeper than 100 levels");
    // the build is over: a client that asks again sees it failed, not queued
    BuildStatus again = client.getBuild(GetBuildRequest.newBuilder().setBuildId(submitted.getBuildId()).build());
    assertThat(again.getState()).isEqualTo(BuildState.FAILED);
    assertThat(again.getFinishedMs()).isPositive();
  }

  @Test
  void aContextManifestThatIsNotInTheStoreIsNotFoundNamingIt() throws IOException {
    var client = blockingClient(new InMemoryContentStore());
    String manifest = Digest.of("never uploaded").toString();

    assertThatThrownBy(() -> client.submitBuild(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"))
            .setContextManifest(manifest)
            .build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains(manifest.substring("sha256:".length()));
        });
  }

  /** Manifests a hostile client could send, each with the entry the error must name. */
  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> hostileManifests() {
    ContextEntry link = ContextEntry.newBuilder().setPath("etc").setType(ContextEntry.Type.SYMLINK)
        .setLinkTarget("/etc").setMode(0777).build();
    ContextEntry through = file("etc/cron.d/pwn", 04755);
    return java.util.stream.Stream.of(
        org.junit.jupiter.params.provider.Arguments.of("a file through a symlink", List.of(link, through),
            "context entry \"etc/cron.d/pwn\": it is below etc, which is a symlink"),
        org.junit.jupiter.params.provider.Arguments.of("a path climbing out", List.of(file("../escape", 0644)),
            "context entry \"../escape\": not a clean relative path"),
        org.junit.jupiter.params.provider.Arguments.of("an absolute path", List.of(file("/etc/passwd", 0644)),
            "context entry \"/etc/passwd\": not a clean relative path"),
        org.junit.jupiter.params.provider.Arguments.of("a duplicate", List.of(file("a", 0644), file("a", 0600)),
            "context entry \"a\": it appears twice"),
        org.junit.jupiter.params.provider.Arguments.of("a file below a file", List.of(file("a", 0644), file("a/b", 0644)),
            "context entry \"a/b\": it is below a, which is a file"),
        org.junit.jupiter.params.provider.Arguments.of("a mode with file-type bits", List.of(file("a", 0100644)),
            "context entry \"a\": mode 100644 has more than permission bits"));
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.MethodSource("hostileManifests")
  void aHostileContextManifestIsAnInvalidArgumentNamingTheEntry(String name, List<ContextEntry> entries,
      String message) throws IOException {
    InMemoryContentStore content = new InMemoryContentStore();
    Digest manifest = content.putBytes(Namespace.CONTEXT,
        ContextManifest.newBuilder().addAllEntries(entries).build().toByteArray());
    var client = blockingClient(content);

    assertThatThrownBy(() -> client.submitBuild(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8("FROM scratch\nCOPY . /\n"))
            .setContextManifest(manifest.toString())
            .build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).isEqualTo("checking the build request failed: " + message);
        });
  }

  @Test
  void hostileRunOptionsAndNamedContextsAreInvalidArgumentsNamingTheValue() throws IOException {
    InMemoryContentStore content = new InMemoryContentStore();
    Digest hostile = content.putBytes(Namespace.CONTEXT, ContextManifest.newBuilder()
        .addEntries(ContextEntry.newBuilder().setPath("../outside").setType(ContextEntry.Type.DIRECTORY)).build()
        .toByteArray());
    var client = blockingClient(content);
    SubmitBuildRequest base = SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("FROM scratch\n")).build();
    for (var bad : List.<java.util.Map.Entry<SubmitBuildRequest, String>>of(
        java.util.Map.entry(base.toBuilder().addExtraHosts(dev.stagefarm.proto.v1.ExtraHost.newBuilder()
            .setHost("db").setIp("10.0.0.1\n6.6.6.6 registry")).build(), "invalid IP address"),
        java.util.Map.entry(base.toBuilder().addUlimits(dev.stagefarm.proto.v1.Ulimit.newBuilder()
            .setName("nofile\",\"x").setSoft(1).setHard(1)).build(), "unknown ulimit"),
        java.util.Map.entry(base.toBuilder().setShmSizeBytes(-1).build(), "shm-size -1 is out of range"),
        java.util.Map.entry(base.toBuilder().putNamedContexts("assets", hostile.toString()).build(),
            "context entry \"../outside\": not a clean relative path"),
        java.util.Map.entry(base.toBuilder().putNamedContexts("x", "file:///etc").build(),
            "named context x: neither docker-image://REF, oci-layout://sha256:… nor a context manifest digest"),
        java.util.Map.entry(base.toBuilder().putNamedContexts("y", "oci-layout:///etc/passwd").build(),
            "named context y: oci-layout:// names no sha256 digest"))) {
      assertThatThrownBy(() -> client.submitBuild(bad.getKey()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(bad.getValue());
          });
    }
  }

  @Test
  void aDockerfileOverTheLimitIsAnInvalidArgumentNamingTheLimit() throws IOException {
    var client = blockingClient(new InMemoryContentStore());
    String huge = "FROM scratch\n" + "# padding\n".repeat(SubmitValidation.MAX_DOCKERFILE_BYTES / 10);

    assertThatThrownBy(() -> client.submitBuild(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8(huge)).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("over the limit of " + SubmitValidation.MAX_DOCKERFILE_BYTES);
        });
  }

  // --- limits (docs/security.md, "Limits") ----------------------------------------------------

  @TempDir Path spool;

  static final RequestLimits SMALL =
      new RequestLimits(1000, 1500, 5, new ContextManifests.Limits(100, 64 << 20));

  static UploadChunk chunk(String digest, long size, int bytes, boolean last) {
    UploadChunk.Builder chunk = UploadChunk.newBuilder().setData(ByteString.copyFrom(new byte[bytes])).setLast(last);
    return digest == null ? chunk.build() : chunk.setDigest(digest).setSize(size).build();
  }

  @Test
  void aBlobOverTheLimitIsRefusedNamingItEvenWhenItsDeclaredSizeLiesAndLeavesNoSpoolFile(BlobStore store)
      throws IOException {
    ManagedChannel channel = channel(new S3ContentStore(store), SMALL, spool);
    Digest digest = Digest.of(new byte[1800]);

    // declares 100 bytes, sends 1800
    assertThatThrownBy(() -> upload(channel, List.of(chunk(digest.toString(), 100, 600, false),
            chunk(null, 0, 600, false), chunk(null, 0, 600, true))))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("over the limit max-upload-blob-size = 1000 bytes");
        });
    // declares its real size: refused before a byte is spooled
    assertThatThrownBy(() -> upload(channel, List.of(chunk(digest.toString(), 1800, 600, false))))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getDescription()).contains("is 1800 bytes, over the limit max-upload-blob-size"));
    assertThat(store.exists(Namespace.CONTEXT, digest)).isFalse();
    assertThat(spool).isEmptyDirectory();
  }

  @Test
  void anUploadCallOverItsByteLimitIsRefusedNamingTheLimit(BlobStore store) throws IOException {
    ManagedChannel channel = channel(new S3ContentStore(store), SMALL, spool);
    byte[] first = new byte[900];
    byte[] second = new byte[901];
    second[0] = 1;

    assertThatThrownBy(() -> upload(channel, List.of(
            chunk(Digest.of(first).toString(), 900, 900, true),
            chunk(Digest.of(second).toString(), 901, 901, true))))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("max-upload-call-size = 1500 bytes per call");
        });
    assertThat(store.exists(Namespace.CONTEXT, Digest.of(first))).isTrue();
    assertThat(spool).isEmptyDirectory();
  }

  @Test
  void aCancelledUploadLeavesNoSpoolFile(BlobStore store) throws Exception {
    ManagedChannel channel = channel(new S3ContentStore(store), RequestLimits.DEFAULT, spool);
    StreamObserver<UploadChunk> chunks = BuildServiceGrpc.newStub(channel).uploadBlobs(new StreamObserver<>() {
      @Override public void onNext(UploadBlobsResponse response) {}
      @Override public void onError(Throwable t) {}
      @Override public void onCompleted() {}
    });
    chunks.onNext(chunk(Digest.of(new byte[2000]).toString(), 2000, 1000, false));
    for (int i = 0; i < 500 && isEmpty(spool); i++) {
      Thread.sleep(10);
    }
    assertThat(spool).as("the first half is spooled").isNotEmptyDirectory();

    chunks.onError(Status.CANCELLED.withDescription("the client gave up").asException());
    for (int i = 0; i < 500 && !isEmpty(spool); i++) {
      Thread.sleep(10);
    }
    assertThat(spool).isEmptyDirectory();
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      return files.findAny().isEmpty();
    }
  }

  @Test
  void askingAboutMoreDigestsThanTheLimitIsAnInvalidArgumentNamingIt() throws IOException {
    var client = BuildServiceGrpc.newBlockingStub(channel(new InMemoryContentStore(), SMALL, spool));
    FindMissingBlobsRequest.Builder request = FindMissingBlobsRequest.newBuilder();
    for (int i = 0; i < 6; i++) {
      request.addDigests(Digest.of("blob " + i).toString());
    }

    assertThatThrownBy(() -> client.findMissingBlobs(request.build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription())
              .isEqualTo("FindMissingBlobs asked about 6 digests, over the limit max-find-missing-digests = 5 per call");
        });
  }

  /** The S3 store, counting the bytes read through {@link #open}. */
  static class CountingStore implements ContentStore {
    final S3ContentStore store;
    final AtomicLong read = new AtomicLong();

    CountingStore(BlobStore store) {
      this.store = new S3ContentStore(store);
    }

    @Override public boolean contains(Namespace ns, Digest d) throws IOException { return store.contains(ns, d); }
    @Override public void put(Namespace ns, Digest d, long size, InputStream in) throws IOException { store.put(ns, d, size, in); }
    @Override public Digest putBytes(Namespace ns, byte[] content) throws IOException { return store.putBytes(ns, content); }
    @Override public OptionalLong size(Namespace ns, Digest d) throws IOException { return store.size(ns, d); }
    @Override public byte[] read(Namespace ns, Digest d) throws IOException { throw new AssertionError("read whole"); }

    @Override
    public InputStream open(Namespace ns, Digest d) throws IOException {
      return new java.io.FilterInputStream(store.open(ns, d)) {
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = super.read(b, off, len);
          read.addAndGet(Math.max(n, 0));
          return n;
        }

        @Override
        public int read() throws IOException {
          int b = super.read();
          read.addAndGet(b < 0 ? 0 : 1);
          return b;
        }
      };
    }
  }

  @Test
  void aManifestWithTooManyEntriesIsRefusedNamingTheLimitWithoutReadingItWhole(BlobStore store) throws IOException {
    CountingStore counting = new CountingStore(store);
    ContextManifest.Builder many = ContextManifest.newBuilder();
    for (int i = 0; i < 20_000; i++) {
      many.addEntries(file("dir/file-" + i, 0644));
    }
    byte[] bytes = many.build().toByteArray();
    Digest manifest = counting.putBytes(Namespace.CONTEXT, bytes);
    var client = BuildServiceGrpc.newBlockingStub(channel(counting, SMALL, spool));

    assertThatThrownBy(() -> client.submitBuild(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"))
            .setContextManifest(manifest.toString())
            .build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("over the limit max-context-entries = 100");
        });
    assertThat(counting.read.get()).as("bytes read of %d", bytes.length).isLessThan(bytes.length / 10);
  }

  @Test
  void aManifestOverTheByteLimitIsRefusedFromItsStoredSize(BlobStore store) throws IOException {
    CountingStore counting = new CountingStore(store);
    ContextManifest.Builder big = ContextManifest.newBuilder();
    for (int i = 0; i < 50; i++) {
      big.addEntries(file("f" + i + "-" + "x".repeat(1000), 0644));
    }
    Digest manifest = counting.putBytes(Namespace.CONTEXT, big.build().toByteArray());
    RequestLimits limits = new RequestLimits(1000, 1500, 5, new ContextManifests.Limits(100, 10_000));
    var client = BuildServiceGrpc.newBlockingStub(channel(counting, limits, spool));

    assertThatThrownBy(() -> client.submitBuild(SubmitBuildRequest.newBuilder()
            .setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"))
            .setContextManifest(manifest.toString())
            .build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("over the limit max-context-manifest-size = 10000 bytes");
        });
    assertThat(counting.read.get()).isZero();
  }

  @Test
  void aValidManifestIsReadOnceForValidationAndPlanning(BlobStore store) throws IOException {
    AtomicLong opens = new AtomicLong();
    CountingStore counting = new CountingStore(store) {
      @Override
      public InputStream open(Namespace ns, Digest d) throws IOException {
        opens.incrementAndGet();
        return super.open(ns, d);
      }
    };
    Digest manifest = counting.putBytes(Namespace.CONTEXT,
        ContextManifest.newBuilder().addEntries(file("a", 0644)).build().toByteArray());
    var client = BuildServiceGrpc.newBlockingStub(channel(counting, SMALL, spool));

    BuildStatus status = client.submitBuild(SubmitBuildRequest.newBuilder()
        .setDockerfile(ByteString.copyFromUtf8("FROM scratch\nCOPY a /\n"))
        .setContextManifest(manifest.toString())
        .build());

    assertThat(status.getState()).isEqualTo(BuildState.RUNNING);
    assertThat(opens.get()).isEqualTo(1);
  }

  private static ContextEntry file(String path, int mode) {
    return ContextEntry.newBuilder().setPath(path).setType(ContextEntry.Type.FILE).setMode(mode)
        .setDigest(Digest.of(path).toString()).setSize(1).build();
  }

  @Test
  void secretsOverALimitOrMalformedAreAnInvalidArgumentNamingTheLimitNeverTheValue() throws IOException {
    var client = blockingClient(new InMemoryContentStore());
    java.util.function.BiFunction<String, Integer, dev.stagefarm.proto.v1.BuildSecret> secret = (id, size) ->
        dev.stagefarm.proto.v1.BuildSecret.newBuilder().setId(id)
            .setValue(ByteString.copyFrom("v".repeat(size).getBytes(StandardCharsets.UTF_8))).build();
    SubmitBuildRequest base = SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"))
        .build();
    SubmitBuildRequest.Builder many = base.toBuilder();
    for (int i = 0; i <= SubmitValidation.MAX_SECRETS; i++) {
      many.addSecrets(secret.apply("s" + i, 1));
    }
    SubmitBuildRequest.Builder heavy = base.toBuilder();
    for (int i = 0; i < 3; i++) {
      heavy.addSecrets(secret.apply("s" + i, SubmitValidation.MAX_SECRET_BYTES));
    }
    Map<SubmitBuildRequest, String> cases = Map.of(
        many.build(), "101 secrets, over the limit of 100",
        base.toBuilder().addSecrets(secret.apply("big", SubmitValidation.MAX_SECRET_BYTES + 1)).build(),
        "secret \"big\" is 512001 bytes, over the limit of 512000 bytes per secret",
        heavy.build(), "over the limit of 1048576 bytes",
        base.toBuilder().addSecrets(secret.apply("a", 1)).addSecrets(secret.apply("a", 2)).build(),
        "secret \"a\" is sent twice",
        base.toBuilder().addSecrets(secret.apply("", 1)).build(), "a secret id is empty",
        base.toBuilder().addSecrets(secret.apply("new\nline", 1)).build(), "has a control character");
    assertInvalidArguments(client, cases);
  }

  @Test
  void labelsAndAnnotationsOverALimitAreAnInvalidArgumentNamingTheLimit() throws IOException {
    var client = blockingClient(new InMemoryContentStore());
    SubmitBuildRequest base = SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"))
        .build();
    SubmitBuildRequest.Builder many = base.toBuilder();
    for (int i = 0; i <= SubmitValidation.MAX_METADATA_ENTRIES / 2; i++) {
      many.putLabels("l" + i, "v").putAnnotations("a" + i, "v");
    }
    SubmitBuildRequest huge = base.toBuilder().putLabels("big", "x".repeat(SubmitValidation.MAX_METADATA_BYTES)).build();
    Map<SubmitBuildRequest, String> cases = Map.of(
        many.build(), "1002 labels and annotations, over the limit of 1000",
        huge, "over the limit of " + SubmitValidation.MAX_METADATA_BYTES);
    assertInvalidArguments(client, cases);
  }

  @Test
  void cacheFlagsOverTheLimitOrMalformedAreAnInvalidArgumentNamingThem() throws IOException {
    var client = blockingClient(new InMemoryContentStore());
    SubmitBuildRequest base = fromScratch();
    SubmitBuildRequest.Builder many = base.toBuilder();
    for (int i = 0; i <= dev.stagefarm.coordinator.remotecache.CacheSpec.MAX_PER_BUILD; i++) {
      many.addCacheFrom("type=registry,ref=r/c:" + i);
    }
    Map<SubmitBuildRequest, String> cases = Map.of(
        many.build(), "17 --cache-from and 0 --cache-to, over the limit of 16 each",
        base.toBuilder().addCacheTo("type=local,dest=relative").build(), "dest must be an absolute directory",
        base.toBuilder().addCacheTo("type=registry,ref=" + "x".repeat(5000)).build(), "longer than 4096 characters",
        base.toBuilder().addCacheFrom("type=s3,region=x").build(), "type \"s3\" is not supported");
    assertInvalidArguments(client, cases);
  }

  private static SubmitBuildRequest fromScratch() {
    return SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8("FROM scratch\n")).build();
  }

  @Test
  void buildArgsAndTagsOverALimitAreAnInvalidArgumentNamingTheLimit() throws IOException {
    var client = blockingClient(new InMemoryContentStore());
    SubmitBuildRequest base = SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"))
        .build();
    SubmitBuildRequest.Builder manyArgs = base.toBuilder();
    for (int i = 0; i <= SubmitValidation.MAX_BUILD_ARGS; i++) {
      manyArgs.putBuildArgs("A" + i, "v");
    }
    SubmitBuildRequest.Builder manyTags = base.toBuilder();
    for (int i = 0; i <= SubmitValidation.MAX_TAGS; i++) {
      manyTags.addTags("registry.example/app:" + i);
    }
    SubmitBuildRequest bigArg = base.toBuilder()
        .putBuildArgs("BIG", "x".repeat(SubmitValidation.MAX_BUILD_ARGS_CHARS)).build();
    SubmitBuildRequest bigTags = base.toBuilder()
        .addTags("registry.example/app:" + "t".repeat(SubmitValidation.MAX_TAGS_CHARS)).build();
    Map<SubmitBuildRequest, String> cases = Map.of(
        manyArgs.build(), "1001 build args, over the limit of 1000",
        bigArg, "build args are " + (SubmitValidation.MAX_BUILD_ARGS_CHARS + 3) + " characters together, over the limit of "
            + SubmitValidation.MAX_BUILD_ARGS_CHARS,
        manyTags.build(), "101 tags, over the limit of 100",
        bigTags, "tags are " + (SubmitValidation.MAX_TAGS_CHARS + 21) + " characters together, over the limit of "
            + SubmitValidation.MAX_TAGS_CHARS);
    assertInvalidArguments(client, cases);
  }

  @Test
  void registryCredentialsOverALimitAreAnInvalidArgumentThatNeverEchoesThem() throws IOException {
    var client = blockingClient(new InMemoryContentStore());
    SubmitBuildRequest base = SubmitBuildRequest.newBuilder().setDockerfile(ByteString.copyFromUtf8("FROM scratch\n"))
        .build();
    java.util.function.BiFunction<String, String, dev.stagefarm.proto.v1.RegistryCredential> credential =
        (registry, secret) -> dev.stagefarm.proto.v1.RegistryCredential.newBuilder().setRegistry(registry)
            .setUsername("u").setSecret(secret).build();
    SubmitBuildRequest.Builder many = base.toBuilder();
    for (int i = 0; i <= SubmitValidation.MAX_REGISTRY_CREDENTIALS; i++) {
      many.addRegistryCredentials(credential.apply("r" + i + ".example", "pw"));
    }
    Map<SubmitBuildRequest, String> cases = Map.of(
        many.build(), "credentials for 65 registries, over the limit of 64",
        base.toBuilder().addRegistryCredentials(credential.apply("big.example",
            "vvvv".repeat(SubmitValidation.MAX_REGISTRY_CREDENTIAL_CHARS))).build(),
        "registry credentials for big.example are",
        base.toBuilder().addRegistryCredentials(credential.apply("a.example", "vvvv"))
            .addRegistryCredentials(credential.apply("a.example", "vvvv")).build(), "a.example is sent twice",
        base.toBuilder().addRegistryCredentials(credential.apply("no/such host", "vvvv")).build(),
        "is not a registry host");
    assertInvalidArguments(client, cases);
  }

  /** Each request is INVALID_ARGUMENT with its message, never echoing a value spelled "vvvv". */
  static void assertInvalidArguments(BuildServiceGrpc.BuildServiceBlockingStub client,
      Map<SubmitBuildRequest, String> cases) {
    cases.forEach((request, message) -> assertThatThrownBy(() -> client.submitBuild(request))
        .as(message)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains(message).doesNotContain("vvvv");
        }));
  }
}
