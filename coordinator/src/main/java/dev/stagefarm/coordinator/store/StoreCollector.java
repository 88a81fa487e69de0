package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.port.ContentRoots;
import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.StoredObject;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.CacheRecordCodec;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import dev.stagefarm.proto.v1.Layer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage collection of the content store, in the spirit of BuildKit's prune policy:
 *
 * <ol>
 *   <li>cache records last written longer than {@code keepDuration} ago are deleted;
 *   <li>mark: the blobs the remaining (valid) cache records name, and everything the live roots
 *       reach — builds in flight and within retention: their image manifests (with config and
 *       layers), stage results, base images, context manifests (with the files they list);
 *   <li>sweep: objects under {@code blobs/}, {@code context/} and {@code programs/} that nothing
 *       marked and that are older than {@code grace} are deleted.
 * </ol>
 *
 * <p>The grace period protects what is being written right now (an upload whose build is not
 * submitted yet, a layer whose cache record is not written yet, an offloaded program of a queued
 * task); the roots are taken after the listing, so a build submitted during a run keeps what it
 * reaches as well. An object whose time the store does not report is kept.
 */
public final class StoreCollector {
  private static final Logger log = LoggerFactory.getLogger(StoreCollector.class);
  private static final String CACHE_PREFIX = "cache/";

  /**
   * @param keepDuration cache records last written longer ago are deleted ({@code gc-keep-duration})
   * @param grace unreferenced objects younger than this are kept ({@code gc-grace})
   */
  public record Policy(Duration keepDuration, Duration grace) {
    /** Cache records for 7 days; unreferenced content for 6 hours. */
    public static final Policy DEFAULT = new Policy(Duration.ofDays(7), Duration.ofHours(6));

    public Policy {
      if (keepDuration.isNegative() || grace.isNegative()) {
        throw new IllegalArgumentException("gc durations must not be negative");
      }
    }
  }

  /** What one run did (or, for a dry run, would do). */
  public record Report(int recordsDeleted, int objectsDeleted, long bytesDeleted, int objectsKept, boolean dryRun) {
    @Override
    public String toString() {
      return (dryRun ? "would delete " : "deleted ") + recordsDeleted + " cache records and " + objectsDeleted
          + " objects (" + bytesDeleted + " bytes); kept " + objectsKept + " objects";
    }
  }

  private final BlobStore store;
  private final FarmKeys keys;
  private final Policy policy;
  private final Clock clock;

  public StoreCollector(BlobStore store, FarmKeys keys, Policy policy, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.policy = policy;
    this.clock = clock;
  }

  /**
   * One collection.
   *
   * @param roots asked after the store is listed, so builds submitted meanwhile are included
   */
  public Report collect(Supplier<ContentRoots> roots, boolean dryRun) throws IOException {
    Instant now = clock.instant();
    Instant recordHorizon = now.minus(policy.keepDuration());
    Instant graceHorizon = now.minus(policy.grace());
    List<StoredObject> records = store.list(CACHE_PREFIX);
    List<StoredObject> content = new java.util.ArrayList<>();
    for (Namespace namespace : Namespace.values()) {
      content.addAll(store.list(namespace.prefix()));
    }

    Set<String> marked = new HashSet<>();
    int recordsDeleted = 0;
    for (StoredObject record : records) {
      if (known(record) && record.lastModified().isBefore(recordHorizon)) {
        recordsDeleted++;
        if (!dryRun) {
          store.deleteObject(record.key());
        }
        continue;
      }
      markRecord(record, marked);
    }
    ContentRoots live = roots.get();
    live.blobs().forEach(d -> marked.add(Namespace.BLOBS.key(d)));
    for (Digest manifest : live.imageManifests()) {
      markImage(manifest, marked);
    }
    for (Digest manifest : live.contextManifests()) {
      markContext(manifest, marked);
    }

    int deleted = 0;
    int kept = 0;
    long bytes = 0;
    for (StoredObject object : content) {
      if (marked.contains(object.key()) || !known(object) || !object.lastModified().isBefore(graceHorizon)) {
        kept++;
        continue;
      }
      deleted++;
      bytes += object.size();
      if (!dryRun) {
        store.deleteObject(object.key());
      }
    }
    Report report = new Report(recordsDeleted, deleted, bytes, kept, dryRun);
    log.info("content store gc: {}", report);
    return report;
  }

  private static boolean known(StoredObject object) {
    return !object.lastModified().equals(Instant.EPOCH);
  }

  private void markRecord(StoredObject record, Set<String> marked) throws IOException {
    String key = record.key().substring(CACHE_PREFIX.length());
    try {
      Optional<byte[]> bytes = store.getRecord(key);
      if (bytes.isPresent()) {
        Optional<Layer> layer = CacheRecordCodec.decode(new CacheKey(key), bytes.get(), keys);
        layer.ifPresent(l -> marked.add(Namespace.BLOBS.key(Digest.parse(l.getBlob().getDigest()))));
      }
    } catch (IllegalArgumentException e) {
      // a record no worker would use (unsigned, edited, unreadable) keeps nothing alive
      log.debug("gc: cache record {} is not usable: {}", key, e.getMessage());
    }
  }

  /** A manifest that cannot be read for another reason than its absence aborts the run (nothing is swept). */
  private void markImage(Digest manifestDigest, Set<String> marked) throws IOException {
    marked.add(Namespace.BLOBS.key(manifestDigest));
    try {
      ImageManifest manifest = ImageJson.readManifest(store.readAllBytes(Namespace.BLOBS, manifestDigest));
      marked.add(Namespace.BLOBS.key(manifest.config().digest()));
      for (Descriptor layer : manifest.layers()) {
        marked.add(Namespace.BLOBS.key(layer.digest()));
      }
    } catch (BlobNotFoundException | RuntimeException e) {
      log.debug("gc: image manifest {} is not readable: {}", manifestDigest, e.toString());
    }
  }

  private void markContext(Digest manifestDigest, Set<String> marked) throws IOException {
    marked.add(Namespace.CONTEXT.key(manifestDigest));
    try {
      ContextManifest manifest = ContextManifest.parseFrom(store.readAllBytes(Namespace.CONTEXT, manifestDigest));
      for (ContextEntry entry : manifest.getEntriesList()) {
        if (entry.getType() == ContextEntry.Type.FILE && Digest.isValid(entry.getDigest())) {
          marked.add(Namespace.CONTEXT.key(Digest.parse(entry.getDigest())));
        }
      }
    } catch (BlobNotFoundException | com.google.protobuf.InvalidProtocolBufferException | RuntimeException e) {
      log.debug("gc: context manifest {} is not readable: {}", manifestDigest, e.toString());
    }
  }
}
