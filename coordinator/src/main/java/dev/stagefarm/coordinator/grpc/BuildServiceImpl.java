package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.BuildCoordinator;
import dev.stagefarm.coordinator.AdmissionRefused;
import dev.stagefarm.coordinator.BuildLimitExceededException;
import dev.stagefarm.coordinator.BuildPage;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.grpc.auth.Caller;
import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.coordinator.store.StoreCollector;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildServiceGrpc;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.CancelBuildRequest;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.ExportChunk;
import dev.stagefarm.proto.v1.ExportImageRequest;
import dev.stagefarm.proto.v1.PushImageIndexRequest;
import dev.stagefarm.proto.v1.PushImageIndexResponse;
import dev.stagefarm.proto.v1.FindMissingBlobsRequest;
import dev.stagefarm.proto.v1.FindMissingBlobsResponse;
import dev.stagefarm.proto.v1.GetBuildRequest;
import dev.stagefarm.proto.v1.ListBuildsRequest;
import dev.stagefarm.proto.v1.ListBuildsResponse;
import dev.stagefarm.proto.v1.PruneStoreRequest;
import dev.stagefarm.proto.v1.PruneStoreResponse;
import dev.stagefarm.proto.v1.StoreArea;
import dev.stagefarm.proto.v1.StoreUsage;
import dev.stagefarm.proto.v1.StoreUsageRequest;
import dev.stagefarm.proto.v1.SubmitBuildRequest;
import dev.stagefarm.proto.v1.UploadBlobsResponse;
import dev.stagefarm.proto.v1.UploadChunk;
import dev.stagefarm.proto.v1.WatchBuildRequest;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-facing gRPC API over a {@link BuildCoordinator}. Holds no transport code: {@link
 * CoordinatorServer} binds it to a server behind the authenticator, which puts the {@link Caller}
 * in each call's context. A caller sees and acts on its own builds only (admins on all); another
 * caller's build is {@code NOT_FOUND}, as one that does not exist, so build ids cannot be probed.
 */
public final class BuildServiceImpl extends BuildServiceGrpc.BuildServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(BuildServiceImpl.class);
  private static final int EXPORT_CHUNK = 1 << 20;
  /** How long an export waits for a client that takes none of its data (ExportChunkStream). */
  private static final java.time.Duration EXPORT_STALL_LIMIT = java.time.Duration.ofMinutes(5);
  /** Builds one image index may gather (one per platform: the farm routes eight). */
  static final int MAX_INDEX_BUILDS = 16;

  private final BuildCoordinator coordinator;
  private final ContentStore context;
  private final ImageExporter exporter;
  private final RequestLimits limits;
  private final Path spoolDir;
  private final int maxUnfinishedBuildsPerClient;
  private final StoreAdministration storeAdministration;
  private final ExecutorService io = Executors.newVirtualThreadPerTaskExecutor();

  /**
   * @param context where build-context files and manifests are uploaded ({@link Namespace#CONTEXT})
   */
  public BuildServiceImpl(BuildCoordinator coordinator, ContentStore context, ImageExporter exporter) {
    this(coordinator, context, exporter, ApiSecurity.DEFAULT_MAX_UNFINISHED_BUILDS);
  }

  /** @param maxUnfinishedBuildsPerClient queued or running builds one identity may have */
  public BuildServiceImpl(
      BuildCoordinator coordinator, ContentStore context, ImageExporter exporter, int maxUnfinishedBuildsPerClient) {
    this(coordinator, context, exporter, maxUnfinishedBuildsPerClient, StoreAdministration.NONE);
  }

  /** @param storeAdministration answers {@code stagefarm du} and {@code prune} (admins only) */
  public BuildServiceImpl(BuildCoordinator coordinator, ContentStore context, ImageExporter exporter,
      int maxUnfinishedBuildsPerClient, StoreAdministration storeAdministration) {
    this(coordinator, context, exporter, RequestLimits.DEFAULT, Path.of(System.getProperty("java.io.tmpdir")),
        maxUnfinishedBuildsPerClient, storeAdministration);
  }

  /**
   * @param limits what one call may ask
   * @param spoolDir where uploads are staged until verified and stored (each file is deleted when
   *     its blob is stored, refused or abandoned)
   */
  public BuildServiceImpl(BuildCoordinator coordinator, ContentStore context, ImageExporter exporter,
      RequestLimits limits, Path spoolDir) {
    this(coordinator, context, exporter, limits, spoolDir, ApiSecurity.DEFAULT_MAX_UNFINISHED_BUILDS);
  }

  /** @param maxUnfinishedBuildsPerClient queued or running builds one identity may have */
  public BuildServiceImpl(BuildCoordinator coordinator, ContentStore context, ImageExporter exporter,
      RequestLimits limits, Path spoolDir, int maxUnfinishedBuildsPerClient) {
    this(coordinator, context, exporter, limits, spoolDir, maxUnfinishedBuildsPerClient, StoreAdministration.NONE);
  }

  public BuildServiceImpl(BuildCoordinator coordinator, ContentStore context, ImageExporter exporter,
      RequestLimits limits, Path spoolDir, int maxUnfinishedBuildsPerClient, StoreAdministration storeAdministration) {
    this.storeAdministration = storeAdministration;
    this.coordinator = coordinator;
    this.context = context;
    this.exporter = exporter;
    this.limits = limits;
    this.spoolDir = spoolDir;
    this.maxUnfinishedBuildsPerClient = maxUnfinishedBuildsPerClient;
  }

  @Override
  public void findMissingBlobs(
      FindMissingBlobsRequest request, StreamObserver<FindMissingBlobsResponse> response) {
    if (request.getDigestsCount() > limits.maxDigestsPerCall()) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("FindMissingBlobs asked about "
          + request.getDigestsCount() + " digests, over the limit max-find-missing-digests = "
          + limits.maxDigestsPerCall() + " per call").asException());
      return;
    }
    try {
      // one HEAD per digest, concurrently: contexts have thousands of files
      List<Future<Optional<String>>> checks = new ArrayList<>();
      for (String digest : request.getDigestsList()) {
        Digest parsed = Digest.parse(digest);
        Callable<Optional<String>> check =
            () -> context.contains(Namespace.CONTEXT, parsed) ? Optional.empty() : Optional.of(digest);
        checks.add(io.submit(check));
      }
      FindMissingBlobsResponse.Builder missing = FindMissingBlobsResponse.newBuilder();
      for (Future<Optional<String>> check : checks) {
        check.get().ifPresent(missing::addMissing);
      }
      response.onNext(missing.build());
      response.onCompleted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response.onError(Status.CANCELLED.withDescription("checking the content store was interrupted").asException());
    } catch (Exception e) {
      response.onError(FailureStatus.of("checking the content store for " + request.getDigestsCount() + " blobs", e));
    }
  }

  @Override
  public StreamObserver<UploadChunk> uploadBlobs(StreamObserver<UploadBlobsResponse> response) {
    return new StreamObserver<>() {
      Path spool;
      OutputStream out;
      String digest = "(no digest yet)";
      long size;
      long blobBytes;
      int blobs;
      long bytes;
      boolean failed;

      @Override
      public void onNext(UploadChunk chunk) {
        if (failed) {
          return;
        }
        try {
          if (!chunk.getDigest().isEmpty()) {
            if (out != null) {
              throw new FailureStatus.MalformedRequest(
                  "blob " + digest + " ended without its last chunk before " + chunk.getDigest() + " began");
            }
            digest = chunk.getDigest();
            Digest.parse(digest); // refuse a malformed digest before spooling its bytes
            size = chunk.getSize();
            if (size > limits.maxBlobBytes()) {
              throw overBlobLimit(size);
            }
            blobBytes = 0;
            spool = Files.createTempFile(spoolDir, "stagefarm-upload-", ".blob");
            out = Files.newOutputStream(spool);
          }
          if (out == null) {
            throw new FailureStatus.MalformedRequest("a chunk arrived before any blob digest");
          }
          int n = chunk.getData().size();
          if (blobBytes + n > limits.maxBlobBytes()) {
            throw overBlobLimit(blobBytes + n);
          }
          if (bytes + n > limits.maxUploadBytesPerCall()) {
            throw new FailureStatus.LimitExceeded("this UploadBlobs call sent more than "
                + limits.maxUploadBytesPerCall() + " bytes, over the limit max-upload-call-size = "
                + limits.maxUploadBytesPerCall() + " bytes per call (upload the rest in another call)");
          }
          chunk.getData().writeTo(out);
          blobBytes += n;
          bytes += n;
          if (chunk.getLast()) {
            out.close();
            out = null;
            try (var in = Files.newInputStream(spool)) {
              context.put(Namespace.CONTEXT, Digest.parse(digest), size, in);
            } finally {
              Files.deleteIfExists(spool);
            }
            spool = null;
            blobs++;
          }
        } catch (Exception e) {
          failed = true;
          cleanup();
          response.onError(FailureStatus.of("uploading " + digest, e));
        }
      }

      @Override
      public void onError(Throwable t) {
        cleanup();
      }

      @Override
      public void onCompleted() {
        cleanup();
        if (!failed) {
          response.onNext(UploadBlobsResponse.newBuilder().setBlobs(blobs).setBytes(bytes).build());
          response.onCompleted();
        }
      }

      private FailureStatus.LimitExceeded overBlobLimit(long blobSize) {
        return new FailureStatus.LimitExceeded("the blob is " + blobSize + " bytes, over the limit"
            + " max-upload-blob-size = " + limits.maxBlobBytes() + " bytes");
      }

      /** Closes and deletes what this call opened (on a failure, a cancel, or the end). */
      private void cleanup() {
        try {
          if (out != null) {
            out.close();
            out = null;
          }
        } catch (IOException e) {
          log.warn("closing the upload spool {} failed: {}", spool, e.toString());
        }
        try {
          if (spool != null) {
            Files.deleteIfExists(spool);
            spool = null;
          }
        } catch (IOException e) {
          log.warn("deleting the upload spool {} failed: {}", spool, e.toString());
        }
      }
    };
  }

  @Override
  public void submitBuild(SubmitBuildRequest request, StreamObserver<BuildStatus> response) {
    Caller caller;
    ContextManifest manifest;
    String tenant;
    try {
      caller = caller();
      // an invalid tenant name, or one that is not the caller's, is INVALID_ARGUMENT naming it
      tenant = tenantOf(caller, request);
      manifest = SubmitValidation.check(request, context, limits.manifest());
    } catch (StatusException e) {
      response.onError(e);
      return;
    } catch (IOException | IllegalArgumentException e) {
      response.onError(FailureStatus.of("checking the build request", e));
      return;
    }
    BuildStatus status;
    try {
      // planning failures come back as a FAILED build; what escapes is the coordinator's own fault
      status = coordinator.submit(request, manifest, caller.identity(), tenant, maxUnfinishedBuildsPerClient);
      // a no-op rebuild is answered once its image is assembled: its client needs no WatchBuild call
      status = CachedBuildEnd.await(coordinator, status, CachedBuildEnd.PATIENCE);
    } catch (AdmissionRefused e) {
      response.onError((e.reason() == AdmissionRefused.Reason.OVER_LIMIT ? Status.RESOURCE_EXHAUSTED
          : Status.PERMISSION_DENIED).withDescription(e.getMessage()).asException());
      return;
    } catch (BuildLimitExceededException e) {
      response.onError(Status.RESOURCE_EXHAUSTED
          .withDescription(e.owner() + " already has " + e.limit() + " unfinished builds: the limit"
              + " max-builds-per-client is " + e.limit() + " (wait for one to finish or cancel one)")
          .asException());
      return;
    } catch (BuildCoordinator.BuildNotAccepted e) {
      log.warn("refusing a build: {}", e.getMessage());
      response.onError(FailureStatus.of("submitting the build", e));
      return;
    } catch (RuntimeException e) {
      log.error("submitting a build failed", e);
      response.onError(FailureStatus.of("submitting the build", e));
      return;
    }
    response.onNext(status);
    response.onCompleted();
  }

  /**
   * The build's tenant (docs/operations.md, "Scheduling"): the caller's identity on a farm with
   * authentication, the request's --tenant (or "default") on one without.
   */
  private static String tenantOf(Caller caller, SubmitBuildRequest request) {
    return dev.stagefarm.coordinator.schedule.SchedulingPolicy.tenantOf(
        caller == Caller.ANONYMOUS ? "" : caller.identity(), request.getTenant());
  }

  @Override
  public void watchBuild(WatchBuildRequest request, StreamObserver<BuildProgress> response) {
    String buildId = request.getBuildId();
    if (visible(buildId, response).isEmpty()) {
      return;
    }
    ProgressStream stream =
        new ProgressStream(
            (ServerCallStreamObserver<BuildProgress>) response,
            request.getAfterSequence(),
            (after, max) -> coordinator.progressAfter(buildId, after, max),
            io);
    stream.onCancel(() -> coordinator.unwatch(buildId, stream));
    if (!coordinator.watch(buildId, request.getAfterSequence(), stream)) {
      response.onError(notFound(buildId));
    }
  }

  @Override
  public void cancelBuild(CancelBuildRequest request, StreamObserver<BuildStatus> response) {
    if (visible(request.getBuildId(), response).isEmpty()) {
      return;
    }
    reply(coordinator.cancel(request.getBuildId()), request.getBuildId(), response);
  }

  @Override
  public void getBuild(GetBuildRequest request, StreamObserver<BuildStatus> response) {
    visible(request.getBuildId(), response).ifPresent(status -> {
      response.onNext(status);
      response.onCompleted();
    });
  }

  @Override
  public void listBuilds(ListBuildsRequest request, StreamObserver<ListBuildsResponse> response) {
    Caller caller;
    try {
      caller = caller();
    } catch (StatusException e) {
      response.onError(e);
      return;
    }
    BuildPage page;
    try {
      page = coordinator.list(request.getPageSize(), request.getPageToken(), b -> caller.mayAccess(b.getOwner()));
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
      return;
    }
    response.onNext(
        ListBuildsResponse.newBuilder().addAllBuilds(page.builds()).setNextPageToken(page.nextPageToken()).build());
    response.onCompleted();
  }

  @Override
  public void exportImage(ExportImageRequest request, StreamObserver<ExportChunk> response) {
    if (request.getIndexBuildIdsCount() > 0) {
      exportIndex(request, response);
      return;
    }
    if (visible(request.getBuildId(), response).isEmpty()) {
      return;
    }
    Optional<String> digest = coordinator.imageDigest(request.getBuildId());
    if (digest.isEmpty()) {
      response.onError(
          Status.FAILED_PRECONDITION
              .withDescription("build " + request.getBuildId() + " has no image (not finished or failed)")
              .asException());
      return;
    }
    String format = request.getFormat().isEmpty() ? "oci" : request.getFormat();
    if (!format.equals("oci") && !format.equals("docker")) {
      response.onError(
          Status.INVALID_ARGUMENT.withDescription("unknown export format \"" + format + "\" (oci or docker)").asException());
      return;
    }
    List<String> tags = coordinator.request(request.getBuildId()).<List<String>>map(r -> List.copyOf(r.getTagsList())).orElse(List.of());
    ExportChunkStream.start(response, EXPORT_CHUNK, EXPORT_STALL_LIMIT, io,
        out -> exporter.export(digest.get(), format, tags, out),
        e -> {
          log.warn("exporting build {} failed", request.getBuildId(), e);
          return FailureStatus.of("exporting build " + request.getBuildId(), e);
        });
  }

  @Override
  public void getStoreUsage(StoreUsageRequest request, StreamObserver<StoreUsage> response) {
    if (!admin("reading the content store's usage", response)) {
      return;
    }
    StoreAdministration.Usage usage;
    try {
      usage = storeAdministration.usage();
    } catch (UnsupportedOperationException e) {
      response.onError(Status.UNIMPLEMENTED.withDescription(e.getMessage()).asException());
      return;
    } catch (IOException | RuntimeException e) {
      response.onError(FailureStatus.of("reading the content store's usage", e));
      return;
    }
    StoreUsage.Builder reply = StoreUsage.newBuilder()
        .setReclaimableObjects(usage.reclaimable().objectsDeleted())
        .setReclaimableBytes(usage.reclaimable().bytesDeleted())
        .setReclaimableRecords(usage.reclaimable().recordsDeleted());
    usage.areas().forEach(area ->
        reply.addAreas(StoreArea.newBuilder().setName(area.name()).setObjects(area.objects()).setBytes(area.bytes())));
    response.onNext(reply.build());
    response.onCompleted();
  }

  @Override
  public void pruneStore(PruneStoreRequest request, StreamObserver<PruneStoreResponse> response) {
    if (!admin("pruning the content store", response)) {
      return;
    }
    if (request.hasKeepDurationSeconds() && request.getKeepDurationSeconds() < 0) {
      response.onError(Status.INVALID_ARGUMENT
          .withDescription("keep_duration_seconds must not be negative, got " + request.getKeepDurationSeconds())
          .asException());
      return;
    }
    Optional<Duration> keep = request.hasKeepDurationSeconds()
        ? Optional.of(Duration.ofSeconds(request.getKeepDurationSeconds())) : Optional.empty();
    StoreCollector.Report report;
    try {
      report = storeAdministration.prune(keep, request.getDryRun());
    } catch (UnsupportedOperationException e) {
      response.onError(Status.UNIMPLEMENTED.withDescription(e.getMessage()).asException());
      return;
    } catch (IOException | RuntimeException e) {
      log.warn("pruning the content store failed", e);
      response.onError(FailureStatus.of("pruning the content store", e));
      return;
    }
    response.onNext(PruneStoreResponse.newBuilder()
        .setRecordsDeleted(report.recordsDeleted())
        .setObjectsDeleted(report.objectsDeleted())
        .setBytesDeleted(report.bytesDeleted())
        .setObjectsKept(report.objectsKept())
        .setDryRun(report.dryRun())
        .build());
    response.onCompleted();
  }

  /** Whether the caller is an admin; otherwise answers the call with PERMISSION_DENIED. */
  private static boolean admin(String action, StreamObserver<?> response) {
    Caller caller;
    try {
      caller = caller();
    } catch (StatusException e) {
      response.onError(e);
      return false;
    }
    if (caller.role() != Caller.Role.ADMIN) {
      response.onError(Status.PERMISSION_DENIED.withDescription(action + " is for admins; " + caller.identity()
          + " is a client (a token with the admin role, or a certificate named by --admin-cn)").asException());
      return false;
    }
    return true;
  }

  /** The images of several builds (one per platform) as one OCI image index. */
  private void exportIndex(ExportImageRequest request, StreamObserver<ExportChunk> response) {
    if (!request.getFormat().isEmpty() && !request.getFormat().equals("oci")) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("a multi-platform image exports as \"oci\" only (an"
          + " image index), not \"" + request.getFormat() + "\"").asException());
      return;
    }
    Optional<List<String>> digests = indexImages(request.getIndexBuildIdsList(), response);
    if (digests.isEmpty()) {
      return;
    }
    String first = request.getIndexBuildIds(0);
    List<String> tags = coordinator.request(first).<List<String>>map(r -> List.copyOf(r.getTagsList())).orElse(List.of());
    ExportChunkStream.start(response, EXPORT_CHUNK, EXPORT_STALL_LIMIT, io,
        out -> exporter.exportIndex(digests.get(), tags, out),
        e -> {
          if (e instanceof UnsupportedOperationException) {
            return Status.UNIMPLEMENTED.withDescription(e.getMessage()).asException();
          }
          log.warn("exporting the image index of builds {} failed", request.getIndexBuildIdsList(), e);
          return FailureStatus.of("exporting the image index of builds " + request.getIndexBuildIdsList(), e);
        });
  }

  /** The images of several builds (one per platform) pushed as one OCI image index under the first build's tags. */
  @Override
  public void pushImageIndex(PushImageIndexRequest request, StreamObserver<PushImageIndexResponse> response) {
    if (request.getBuildIdsCount() == 0) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("no builds to push as an image index").asException());
      return;
    }
    Optional<List<String>> digests = indexImages(request.getBuildIdsList(), response);
    if (digests.isEmpty()) {
      return;
    }
    List<String> tags = coordinator.request(request.getBuildIds(0))
        .<List<String>>map(r -> List.copyOf(r.getTagsList())).orElse(List.of());
    try {
      String index = exporter.pushIndex(digests.get(), tags);
      response.onNext(PushImageIndexResponse.newBuilder().setIndexDigest(index).addAllPushed(tags).build());
    } catch (UnsupportedOperationException e) {
      response.onError(Status.UNIMPLEMENTED.withDescription(e.getMessage()).asException());
      return;
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
      return;
    } catch (IOException | RuntimeException e) {
      log.warn("pushing the image index of builds {} failed", request.getBuildIdsList(), e);
      response.onError(FailureStatus.of("pushing the image index of builds " + request.getBuildIdsList(), e));
      return;
    }
    response.onCompleted();
  }

  /**
   * The image manifest digests of the builds of one index, each visible to the caller and finished
   * with an image; otherwise answers the call with the error and returns empty.
   */
  private Optional<List<String>> indexImages(List<String> buildIds, StreamObserver<?> response) {
    if (buildIds.size() > MAX_INDEX_BUILDS) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("an image index of " + buildIds.size()
          + " builds is over the limit of " + MAX_INDEX_BUILDS).asException());
      return Optional.empty();
    }
    List<String> digests = new ArrayList<>();
    for (String buildId : buildIds) {
      if (visible(buildId, response).isEmpty()) {
        return Optional.empty();
      }
      Optional<String> digest = coordinator.imageDigest(buildId);
      if (digest.isEmpty()) {
        response.onError(Status.FAILED_PRECONDITION
            .withDescription("build " + buildId + " has no image (not finished or failed)").asException());
        return Optional.empty();
      }
      digests.add(digest.get());
    }
    return Optional.of(digests);
  }

  /** The caller's identity, which the authenticator put in the call's context. */
  private static Caller caller() throws StatusException {
    return Caller.current().orElseThrow(() ->
        Status.UNAUTHENTICATED.withDescription("the call was not authenticated").asException());
  }

  /**
   * The build's status if the caller may see it; otherwise answers the call with NOT_FOUND (the
   * same answer as for an id that does not exist) and returns empty.
   */
  private Optional<BuildStatus> visible(String buildId, StreamObserver<?> response) {
    Caller caller;
    try {
      caller = caller();
    } catch (StatusException e) {
      response.onError(e);
      return Optional.empty();
    }
    Optional<BuildStatus> status = coordinator.status(buildId).filter(s -> caller.mayAccess(s.getOwner()));
    if (status.isEmpty()) {
      response.onError(notFound(buildId));
    }
    return status;
  }

  private static void reply(
      Optional<BuildStatus> status, String buildId, StreamObserver<BuildStatus> response) {
    if (status.isEmpty()) {
      response.onError(notFound(buildId));
      return;
    }
    response.onNext(status.get());
    response.onCompleted();
  }

  private static io.grpc.StatusException notFound(String buildId) {
    return Status.NOT_FOUND.withDescription("no build " + buildId).asException();
  }
}
