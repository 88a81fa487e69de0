package dev.stagefarm.cli.build;

import com.google.protobuf.ByteString;
import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.CancelBuildRequest;
import dev.stagefarm.proto.v1.ExportChunk;
import dev.stagefarm.proto.v1.ExportImageRequest;
import dev.stagefarm.proto.v1.FindMissingBlobsRequest;
import dev.stagefarm.proto.v1.GetBuildRequest;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.proto.v1.ListBuildsResponse;
import dev.stagefarm.proto.v1.PruneStoreRequest;
import dev.stagefarm.proto.v1.PushImageIndexRequest;
import dev.stagefarm.proto.v1.PushImageIndexResponse;
import dev.stagefarm.proto.v1.PruneStoreResponse;
import dev.stagefarm.proto.v1.StoreUsage;
import dev.stagefarm.proto.v1.StoreUsageRequest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.proto.v1.UploadBlobsResponse;
import dev.stagefarm.proto.v1.UploadChunk;
import dev.stagefarm.proto.v1.WatchBuildRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The client side of the BuildService: content-addressed context upload, submit, watch (with
 * reconnects that resume after the last progress sequence seen), export. Takes a {@link Channel}
 * its caller owns, or a {@link CoordinatorRoute} over several coordinators, and turns gRPC
 * failures into one-line user errors.
 *
 * <p>A coordinator that is unreachable or a standby answers UNAVAILABLE: the client moves to the
 * leader (or the next coordinator) and retries for up to about {@link #FAILOVER_PATIENCE} — a
 * take-over takes seconds. A submit is retried only when a standby refused it (it never ran); a
 * submit cut off mid-call might have started a build, and is reported instead.
 */
public final class BuildClient {
  private static final int CHUNK = 1 << 20;
  private static final int MISSING_BATCH = 1000;
  /** How long calls keep retrying UNAVAILABLE (a standby's take-over, a restarting coordinator). */
  static final Duration FAILOVER_PATIENCE = Duration.ofSeconds(90);

  private final CoordinatorRoute route;
  private final Duration patience;

  public BuildClient(Channel channel, String endpoint) {
    this(CoordinatorRoute.fixed(channel, endpoint));
  }

  public BuildClient(CoordinatorRoute route) {
    this(route, FAILOVER_PATIENCE);
  }

  /** @param patience how long UNAVAILABLE answers are retried (tests shorten it) */
  BuildClient(CoordinatorRoute route, Duration patience) {
    this.route = route;
    this.patience = patience;
  }

  private BuildServiceGrpc.BuildServiceBlockingStub blocking() {
    return BuildServiceGrpc.newBlockingStub(route.channel());
  }

  /**
   * Runs the call, moving to the leader and retrying while the answer is UNAVAILABLE.
   *
   * @param onlyFromStandby retry only when a standby refused the call (it did not run)
   */
  private <T> T withFailover(Supplier<T> call, boolean onlyFromStandby) {
    long deadline = System.nanoTime() + patience.toNanos();
    int attempt = 0;
    while (true) {
      try {
        return call.get();
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline
            || (onlyFromStandby && !fromStandby(e)) || untrustedPeer(e.getStatus())) {
          throw e;
        }
        if (!route.failover(e) || attempt > 0) {
          sleep(Math.min(1000, 100L << Math.min(attempt, 4)));
        }
        attempt++;
      }
    }
  }

  /** Whether a standby coordinator refused the call (so it did nothing). */
  static boolean fromStandby(StatusRuntimeException e) {
    String description = e.getStatus().getDescription();
    return description != null && description.startsWith("this coordinator is a standby");
  }

  /** Upload statistics: how much of the context was actually sent. */
  public record UploadResult(int files, int uploaded, long uploadedBytes) {}

  /** Uploads the context files (and manifest) the farm does not have yet. */
  public UploadResult upload(ScannedContext context) {
    List<String> digests = new ArrayList<>(context.files().keySet());
    digests.add(context.manifestDigest().toString());
    UploadBlobsResponse sent = upload(digests, "the build context", digest -> {
      if (digest.equals(context.manifestDigest().toString())) {
        return new java.io.ByteArrayInputStream(context.manifestBytes());
      }
      return Files.newInputStream(context.files().get(digest));
    }, digest -> digest.equals(context.manifestDigest().toString()) ? context.manifestBytes().length
        : Files.size(context.files().get(digest)));
    return new UploadResult(context.files().size(), sent.getBlobs(), sent.getBytes());
  }

  /** Uploads the blobs (digest → file) the farm does not have yet, e.g. an OCI layout's; returns how many were sent. */
  public int uploadFiles(java.util.Map<String, Path> blobs, String what) {
    return upload(new ArrayList<>(blobs.keySet()), what, digest -> Files.newInputStream(blobs.get(digest)),
        digest -> Files.size(blobs.get(digest))).getBlobs();
  }

  @FunctionalInterface
  private interface BlobRead<T> {
    T apply(String digest) throws IOException;
  }

  private UploadBlobsResponse upload(List<String> digests, String what, BlobRead<InputStream> open, BlobRead<Long> size) {
    List<String> missing = new ArrayList<>();
    try {
      for (int i = 0; i < digests.size(); i += MISSING_BATCH) {
        List<String> batch = digests.subList(i, Math.min(digests.size(), i + MISSING_BATCH));
        missing.addAll(withFailover(() ->
            blocking()
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .findMissingBlobs(FindMissingBlobsRequest.newBuilder().addAllDigests(batch).build())
                .getMissingList(), false));
      }
    } catch (StatusRuntimeException e) {
      throw failure("checking which blobs of " + what + " the farm has", e);
    }
    if (missing.isEmpty()) {
      return UploadBlobsResponse.getDefaultInstance();
    }
    CompletableFuture<UploadBlobsResponse> done = new CompletableFuture<>();
    StreamObserver<UploadChunk> upload =
        BuildServiceGrpc.newStub(route.channel()).uploadBlobs(
            new StreamObserver<>() {
              @Override
              public void onNext(UploadBlobsResponse value) {
                done.complete(value);
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.complete(UploadBlobsResponse.getDefaultInstance());
              }
            });
    try {
      for (String digest : missing) {
        try (InputStream in = open.apply(digest)) {
          send(upload, digest, size.apply(digest), in);
        }
        if (done.isDone()) {
          break; // the server already failed the stream
        }
      }
      upload.onCompleted();
      return done.get(10, TimeUnit.MINUTES);
    } catch (IOException e) {
      upload.onError(Status.CANCELLED.asException());
      throw new UserError("reading " + what + " failed: " + e.getMessage());
    } catch (ExecutionException e) {
      throw failure("uploading " + what, e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw ExitCodes.farm("uploading " + what + " timed out");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    }
  }

  private static void send(StreamObserver<UploadChunk> upload, String digest, long size, InputStream in)
      throws IOException {
    byte[] buffer = new byte[CHUNK];
    boolean first = true;
    long sent = 0;
    while (true) {
      int n = in.readNBytes(buffer, 0, buffer.length);
      sent += n;
      boolean last = sent >= size || n < buffer.length;
      UploadChunk.Builder chunk = UploadChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, n)).setLast(last);
      if (first) {
        chunk.setDigest(digest).setSize(size);
        first = false;
      }
      upload.onNext(chunk.build());
      if (last) {
        return;
      }
    }
  }

  public BuildStatus submit(SubmitBuildRequest request) {
    if (!route.confidential()) {
      // as a token: never in clear over the network (docs/security.md, "Clients")
      if (request.getSecretsCount() > 0) {
        throw ExitCodes.usage("refusing to send build secrets to " + route.endpoint() + " without TLS: pass"
            + " --tls-ca FILE (or --tls for a certificate from a public CA)");
      }
      if (request.getRegistryCredentialsCount() > 0) {
        System.err.println("warning: not sending registry credentials to " + route.endpoint() + " without TLS:"
            + " this build's pulls and pushes are anonymous (pass --tls-ca FILE or --tls)");
        request = request.toBuilder().clearRegistryCredentials().build();
      }
    }
    SubmitBuildRequest sent = request;
    try {
      return withFailover(() -> blocking().withDeadlineAfter(10, TimeUnit.MINUTES).submitBuild(sent), true);
    } catch (StatusRuntimeException e) {
      throw failure("submitting the build", e);
    }
  }

  /**
   * Follows the build's progress until its final status; reconnects after transport failures and
   * resumes after the last sequence seen.
   */
  public BuildStatus watch(String buildId, Consumer<BuildProgress> progress) {
    long after = 0;
    BuildStatus last = null;
    long deadline = System.nanoTime() + patience.toNanos();
    int retries = 0;
    while (true) {
      try {
        Iterator<BuildProgress> stream =
            blocking().watchBuild(WatchBuildRequest.newBuilder().setBuildId(buildId).setAfterSequence(after).build());
        while (stream.hasNext()) {
          BuildProgress entry = stream.next();
          after = entry.getSequence();
          retries = 0;
          deadline = System.nanoTime() + patience.toNanos();
          if (entry.hasBuild()) {
            last = entry.getBuild();
          }
          progress.accept(entry);
        }
        if (last != null && isFinalState(last)) {
          return last;
        }
        return getBuild(buildId);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline
            || untrustedPeer(e.getStatus())) {
          throw failure("watching build " + buildId, e);
        }
        // the coordinator went away or is a standby now: follow the leader, resume after `after`
        if (!route.failover(e) || retries > 0) {
          sleep(Math.min(1000, 100L * (retries + 1)));
        }
        retries++;
      }
    }
  }

  public BuildStatus getBuild(String buildId) {
    try {
      return withFailover(() -> blocking().withDeadlineAfter(30, TimeUnit.SECONDS)
          .getBuild(GetBuildRequest.newBuilder().setBuildId(buildId).build()), false);
    } catch (StatusRuntimeException e) {
      throw failure("reading build " + buildId, e);
    }
  }

  public void cancel(String buildId) {
    try {
      blocking().withDeadlineAfter(10, TimeUnit.SECONDS).cancelBuild(CancelBuildRequest.newBuilder().setBuildId(buildId).build());
    } catch (StatusRuntimeException ignored) {
      // best effort on the way out
    }
  }

  /** Streams the built image as a tar ({@code oci} or {@code docker}) into {@code out}. */
  public void export(String buildId, String format, OutputStream out) throws IOException {
    try {
      Iterator<ExportChunk> chunks =
          blocking().exportImage(ExportImageRequest.newBuilder().setBuildId(buildId).setFormat(format).build());
      while (chunks.hasNext()) {
        chunks.next().getData().writeTo(out);
      }
    } catch (StatusRuntimeException e) {
      throw failure("exporting the image", e);
    }
  }

  /**
   * Writes the built image as a tar ({@code oci} or {@code docker}) into the file {@code dest} (created, or
   * truncated): by the coordinator itself when it runs in this process ({@link
   * CoordinatorRoute#localImageFiles}), else from {@link #export}'s stream.
   */
  public void exportToFile(String buildId, String format, java.nio.file.Path dest) throws IOException {
    java.util.Optional<LocalImageFiles> local = route.localImageFiles();
    if (local.isPresent()) {
      local.get().write(buildId, format, dest);
      return;
    }
    try (OutputStream out = java.nio.file.Files.newOutputStream(dest)) {
      export(buildId, format, out);
    }
  }

  /** Streams the images of several builds (one per platform) as one OCI image index tar into {@code out}. */
  public void exportIndex(List<String> buildIds, OutputStream out) throws IOException {
    try {
      Iterator<ExportChunk> chunks = blocking().exportImage(
          ExportImageRequest.newBuilder().setFormat("oci").addAllIndexBuildIds(buildIds).build());
      while (chunks.hasNext()) {
        chunks.next().getData().writeTo(out);
      }
    } catch (StatusRuntimeException e) {
      throw failure("exporting the image index", e);
    }
  }

  /** Pushes the images of several builds (one per platform) as one image index under the first build's tags. */
  public PushImageIndexResponse pushIndex(List<String> buildIds) {
    try {
      return blocking().withDeadlineAfter(30, TimeUnit.MINUTES)
          .pushImageIndex(PushImageIndexRequest.newBuilder().addAllBuildIds(buildIds).build());
    } catch (StatusRuntimeException e) {
      throw failure("pushing the image index", e);
    }
  }

  /** One page of the builds the caller may see, oldest first. */
  public ListBuildsResponse listBuilds(int pageSize, String pageToken) {
    try {
      return withFailover(() -> blocking().withDeadlineAfter(30, TimeUnit.SECONDS)
          .listBuilds(ListBuildsRequest.newBuilder().setPageSize(pageSize).setPageToken(pageToken).build()), false);
    } catch (StatusRuntimeException e) {
      throw failure("listing builds", e);
    }
  }

  /** Cancels a build and returns its status afterwards (a finished build is left as it is). */
  public BuildStatus cancelBuild(String buildId) {
    try {
      return withFailover(() -> blocking().withDeadlineAfter(30, TimeUnit.SECONDS)
          .cancelBuild(CancelBuildRequest.newBuilder().setBuildId(buildId).build()), false);
    } catch (StatusRuntimeException e) {
      throw failure("cancelling build " + buildId, e);
    }
  }

  public StoreUsage storeUsage() {
    try {
      return withFailover(() -> blocking().withDeadlineAfter(10, TimeUnit.MINUTES)
          .getStoreUsage(StoreUsageRequest.getDefaultInstance()), false);
    } catch (StatusRuntimeException e) {
      throw failure("reading the content store's usage", e);
    }
  }

  public PruneStoreResponse pruneStore(PruneStoreRequest request) {
    try {
      return withFailover(() -> blocking().withDeadlineAfter(30, TimeUnit.MINUTES).pruneStore(request), false);
    } catch (StatusRuntimeException e) {
      throw failure("pruning the content store", e);
    }
  }

  public static boolean isFinalState(BuildStatus status) {
    return switch (status.getState()) {
      case SUCCEEDED, FAILED, CANCELLED -> true;
      default -> false;
    };
  }

  private UserError failure(String action, Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      if (s.getStatus().getCode() == Status.Code.UNAVAILABLE && fromStandby(s)) {
        // reachable, but no coordinator of the farm took over within the patience: say that, not "unreachable"
        return ExitCodes.farm(action + " failed: no active coordinator within " + patience.toSeconds()
            + " s; the coordinator at " + route.endpoint() + " answers: " + s.getStatus().getDescription());
      }
      if (s.getStatus().getCode() == Status.Code.UNAVAILABLE) {
        return ExitCodes.farm(action + " failed: the coordinator at " + route.endpoint() + " is unreachable ("
            + transportProblem(s.getStatus()) + ")");
      }
      String description = s.getStatus().getDescription();
      String message = action + " failed: " + (description == null ? s.getStatus().getCode().toString() : description);
      return new UserError(message, exitCode(s.getStatus().getCode()));
    }
    return ExitCodes.farm(action + " failed: " + e.getMessage());
  }

  /** The coordinator refused the build itself (1) or failed as a farm (3). */
  static int exitCode(Status.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS, OUT_OF_RANGE -> ExitCodes.BUILD_FAILED;
      default -> ExitCodes.FARM_FAILED;
    };
  }

  /**
   * Whether the TLS handshake failed on the certificates: the coordinator's is not trusted, or it
   * wants one from us. No take-over changes that, so the call fails at once instead of retrying
   * UNAVAILABLE for {@link #FAILOVER_PATIENCE} (a wrong --tls-ca took 90 s to be reported).
   */
  static boolean untrustedPeer(Status status) {
    for (Throwable cause = status.getCause(); cause != null; cause = cause.getCause()) {
      if (cause instanceof javax.net.ssl.SSLException || cause.getClass().getName().contains("OpenSslException")) {
        if (String.valueOf(cause.getMessage()).contains("CERTIFICATE_REQUIRED")) {
          return true;
        }
        Throwable deepest = cause;
        while (deepest.getCause() != null) {
          deepest = deepest.getCause();
        }
        return deepest instanceof java.security.GeneralSecurityException;
      }
    }
    return false;
  }

  /**
   * What went wrong on the connection, in words: gRPC says "ssl exception" or "Network closed for
   * unknown reason" for TLS problems; the cause says which.
   */
  private static String transportProblem(Status status) {
    String description = String.valueOf(status.getDescription());
    for (Throwable cause = status.getCause(); cause != null; cause = cause.getCause()) {
      String name = cause.getClass().getName();
      if (name.contains("NotSslRecordException")) {
        return "TLS handshake failed: the coordinator does not speak TLS; drop --tls/--tls-ca";
      }
      if (cause instanceof javax.net.ssl.SSLException || name.contains("OpenSslException")) {
        String message = String.valueOf(cause.getMessage());
        if (message.contains("CERTIFICATE_REQUIRED")) {
          return "TLS handshake failed: the coordinator requires a client certificate (--tls-cert/--tls-key)";
        }
        Throwable deepest = cause;
        while (deepest.getCause() != null) {
          deepest = deepest.getCause();
        }
        if (deepest instanceof java.security.cert.CertificateException
            || deepest instanceof java.security.GeneralSecurityException) {
          return "TLS handshake failed: the coordinator's certificate is not trusted (" + deepest.getMessage()
              + "); is --tls-ca the CA that issued it?";
        }
        return "TLS handshake failed: " + (deepest.getMessage() == null ? message : deepest.getMessage());
      }
    }
    // a plaintext client at a TLS port: the server drops the connection, which gRPC reports either way
    if (description.contains("Network closed for unknown reason") || description.equals("io exception")) {
      return description + "; if the coordinator uses TLS, pass --tls-ca FILE or --tls";
    }
    return description;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    }
  }
}
