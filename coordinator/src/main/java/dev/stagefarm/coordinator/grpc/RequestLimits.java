package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.coordinator.plan.ContextManifests;

/**
 * What one client call may ask of the coordinator. A request over a limit is refused with
 * {@code INVALID_ARGUMENT} naming the limit's key and value (docs/security.md, "Limits").
 *
 * @param maxBlobBytes the largest blob one UploadBlobs call may upload ({@code max-upload-blob-size})
 * @param maxUploadBytesPerCall the most bytes one UploadBlobs call may upload ({@code max-upload-call-size})
 * @param maxDigestsPerCall the most digests one FindMissingBlobs call may ask about ({@code max-find-missing-digests})
 * @param manifest the limits of a context manifest ({@code max-context-entries}, {@code max-context-manifest-size})
 */
public record RequestLimits(long maxBlobBytes, long maxUploadBytesPerCall, int maxDigestsPerCall,
    ContextManifests.Limits manifest) {
  /** 4 GiB per blob, 8 GiB per upload call, 10,000 digests per lookup (the CLI asks 1,000 at a time). */
  public static final RequestLimits DEFAULT =
      new RequestLimits(4L << 30, 8L << 30, 10_000, ContextManifests.Limits.DEFAULT);

  public RequestLimits {
    if (maxBlobBytes < 1 || maxUploadBytesPerCall < 1 || maxDigestsPerCall < 1) {
      throw new IllegalArgumentException("request limits must be positive");
    }
  }
}
