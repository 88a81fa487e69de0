package dev.stagefarm.oci.store;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.Digest;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioAsyncClient;
import io.minio.PutObjectAPIArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;

/**
 * The farm's content store on one S3 bucket (the keys of {@link BlobStore}: {@code blobs/sha256/<hex>}, {@code
 * cache/<key>}, …), spoken to with the MinIO client.
 *
 * <p>Content-addressed puts check a HEAD first and skip the upload when the blob is there; they verify the digest
 * while streaming and publish nothing when it does not match. Putting the same digest from several places at once is
 * harmless: every writer writes the same bytes. Each S3 request is retried on transient failures; every failure names
 * the operation, the key and the bucket. Thread-safe; share one instance.
 */
public final class S3BlobStore extends SmallObjectStore {

    private final S3Config config;
    private final StoreOptions options;
    private final MinioAsyncClient client;
    private final OkHttpClient http;
    private final ExecutorService executor;
    private final Retrier retrier;
    private final VerifiedUpload uploads;

    private S3BlobStore(S3Config config, StoreOptions options) {
        this.config = config;
        this.options = options;
        Dispatcher dispatcher = new Dispatcher();
        // Part uploads of several blobs run at once; OkHttp's default of 5 per host would serialise them.
        dispatcher.setMaxRequests(128);
        dispatcher.setMaxRequestsPerHost(128);
        this.http = new OkHttpClient.Builder()
                .dispatcher(dispatcher)
                .connectTimeout(Duration.ofSeconds(10))
                .readTimeout(Duration.ofMinutes(5))
                .writeTimeout(Duration.ofMinutes(5))
                .build();
        this.client = MinioAsyncClient.builder()
                .endpoint(config.endpoint())
                .credentialsProvider(config.credentials().provider())
                .region(config.region())
                .httpClient(http, true)
                .build();
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        this.retrier = new Retrier(options.retry(), "bucket '" + config.bucket() + "' at " + config.endpoint());
        this.uploads = new VerifiedUpload(client, config.bucket(), retrier, options.partSize(),
                options.partsInFlight(), executor,
                options.unsignedPayloadOverPlainHttp() || !config.plainHttpOverNetwork());
    }

    public static S3BlobStore connect(S3Config config, StoreOptions options) {
        return new S3BlobStore(config, options);
    }

    public S3Config config() {
        return config;
    }

    /** Creates the bucket unless it exists; safe to call from several processes at once. */
    public void ensureBucket() throws IOException {
        String bucket = config.bucket();
        retrier.call("create bucket", bucket, () -> {
            if (client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()).get()) {
                return null;
            }
            try {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build()).get();
            } catch (Exception e) {
                if (!(S3Failures.unwrap(e) instanceof ErrorResponseException er
                        && er.errorResponse().code().startsWith("BucketAlready"))) {
                    throw e;
                }
            }
            return null;
        });
    }

    // ---- content-addressed blobs ----

    /** The stored size of a blob (a HEAD request), or empty when it is not in the store. */
    @Override
    public OptionalLong size(Namespace namespace, Digest digest) throws IOException {
        return headSize(namespace.key(digest));
    }

    private OptionalLong headSize(String key) throws IOException {
        return retrier.call("HEAD", key, () -> {
            try {
                return OptionalLong.of(client.statObject(StatObjectArgs.builder().bucket(config.bucket()).object(key)
                        .build()).get().size());
            } catch (Exception e) {
                if (S3Failures.isNotFound(e)) {
                    return OptionalLong.empty();
                }
                throw e;
            }
        });
    }

    /** After a HEAD: nothing is sent when the store has the blob at the promised size. */
    @Override
    public StoredBlob put(Namespace namespace, Digest digest, long size, InputStream content) throws IOException {
        String key = namespace.key(digest);
        OptionalLong stored = headSize(key);
        // A stored object of another size than promised is damaged or the promise is wrong: upload, which verifies.
        if (stored.isPresent() && (size < 0 || stored.getAsLong() == size)) {
            return new StoredBlob(digest, stored.getAsLong(), false);
        }
        long written = uploads.upload(key, digest, size, content);
        return new StoredBlob(digest, written, true);
    }

    /** The largest blob {@link #putFresh} sends without asking whether the store has it. */
    public static final long FRESH_PUT_MAX_BYTES = 1 << 20;

    /**
     * Stores a blob the caller has just made (a layer a stage produced): up to {@link #FRESH_PUT_MAX_BYTES}, with
     * one PUT and no HEAD first, since such a blob is nearly always new; when the store has it after all, the PUT
     * rewrites the same bytes under the same content-addressed key (a reader sees the old object or the new one,
     * identical), at most 1 MiB sent again. Larger content goes through {@link #put(Namespace, Digest, long,
     * InputStream)}, whose HEAD saves re-sending it.
     */
    @Override
    public StoredBlob putFresh(Namespace namespace, Digest digest, long size, InputStream content) throws IOException {
        if (size < 0 || size > FRESH_PUT_MAX_BYTES) {
            return put(namespace, digest, size, content);
        }
        long written = uploads.upload(namespace.key(digest), digest, size, content);
        return new StoredBlob(digest, written, true);
    }

    /**
     * Stores a blob from a file this process wrote and hashed itself as it wrote it (a layer a stage produced): the
     * digest is trusted, not computed again. Small files go as {@link #putFresh} (read, verified, one PUT, no HEAD);
     * larger ones after a HEAD (nothing sent when the store has the blob) in one PUT streamed from the file up to
     * {@link StoreOptions#singlePutMaxBytes()}, beyond it as a verified multipart upload. Content from anywhere else
     * goes through {@link #put(Namespace, Digest, long, InputStream)}, which verifies it.
     */
    @Override
    public StoredBlob putFile(Namespace namespace, Digest digest, long size, Path file) throws IOException {
        if (size <= FRESH_PUT_MAX_BYTES || size > options.singlePutMaxBytes()) {
            try (InputStream in = Files.newInputStream(file)) {
                return putFresh(namespace, digest, size, in);
            }
        }
        String key = namespace.key(digest);
        OptionalLong stored = headSize(key);
        if (stored.isPresent() && stored.getAsLong() == size) {
            return new StoredBlob(digest, size, false);
        }
        if (!singlePutRefused) {
            try {
                return new StoredBlob(digest, uploads.uploadFile(key, size, file), true);
            } catch (IOException refused) {
                if (Files.size(file) != size) {
                    throw refused;
                }
                // not every S3-compatible server takes a streamed single PUT with a CRC32C checksum (s3rver, the
                // compose smoke's backend, closed the connection on it): from now on this store gets the verified
                // multipart upload every server takes
                singlePutRefused = true;
                org.slf4j.LoggerFactory.getLogger(S3BlobStore.class).warn("the store refused a single streamed PUT of {}"
                        + " ({}); layer files go up as verified multipart uploads from now on", key, refused.getMessage());
            }
        }
        try (InputStream in = Files.newInputStream(file)) {
            return put(namespace, digest, size, in);
        }
    }

    /** Set once a store has refused {@link #putFile}'s single streamed PUT: later files go the verified way. */
    private volatile boolean singlePutRefused;

    /**
     * Stores content whose digest is not known before reading it all. Content up to one part size is digested in
     * memory; larger content is staged in a file under the spool directory while it is digested, then uploaded
     * unless the store already has it.
     */
    @Override
    public StoredBlob putComputingDigest(Namespace namespace, InputStream content) throws IOException {
        byte[] head = content.readNBytes(options.partSize());
        if (head.length < options.partSize()) {
            return put(namespace, Digest.of(head), head.length, new ByteArrayInputStream(head));
        }
        Files.createDirectories(options.spoolDir());
        Path spool = Files.createTempFile(options.spoolDir(), "stagefarm-upload-", ".blob");
        try {
            DigestedFile spooled = DigestedFile.write(spool, head, content);
            try (InputStream staged = Files.newInputStream(spool)) {
                return put(namespace, spooled.digest(), spooled.size(), staged);
            }
        } finally {
            Files.deleteIfExists(spool);
        }
    }

    @Override
    public InputStream open(Namespace namespace, Digest digest) throws IOException {
        String key = namespace.key(digest);
        InputStream body = get(key, digest, GetObjectArgs.builder().bucket(config.bucket()).object(key).build());
        // A broken connection resumes at the offset reached; the digest check spans the resumed pieces.
        InputStream resuming = new ResumingInputStream(body, offset -> get(key, digest,
                GetObjectArgs.builder().bucket(config.bucket()).object(key).offset(offset).build()),
                describe(key), options.retry().maxAttempts());
        return new VerifyingInputStream(resuming, digest, -1, describe(key));
    }

    @Override
    public InputStream openRange(Namespace namespace, Digest digest, long offset, long length) throws IOException {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("invalid range: offset " + offset + ", length " + length);
        }
        String key = namespace.key(digest);
        return get(key, digest, GetObjectArgs.builder().bucket(config.bucket()).object(key)
                .offset(offset).length(length).build());
    }

    private InputStream get(String key, Digest digest, GetObjectArgs args) throws IOException {
        return retrier.call("GET", key, () -> {
            try {
                GetObjectResponse response = client.getObject(args).get();
                return response;
            } catch (Exception e) {
                if (S3Failures.isNotFound(e)) {
                    throw new BlobNotFoundException(digest, describe(key));
                }
                throw e;
            }
        });
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
        return retrier.call("list", prefix + "*", () -> {
            List<StoredObject> objects = new ArrayList<>();
            for (Result<Item> result : client.listObjects(ListObjectsArgs.builder().bucket(config.bucket())
                    .prefix(prefix).recursive(true).build())) {
                Item item = result.get();
                if (!item.isDir()) {
                    objects.add(new StoredObject(item.objectName(), item.size(),
                            item.lastModified() == null ? java.time.Instant.EPOCH : item.lastModified().toInstant()));
                }
            }
            return objects;
        });
    }

    @Override
    public void deleteObject(String key) throws IOException {
        retrier.call("DELETE", key, () -> client.removeObject(RemoveObjectArgs.builder().bucket(config.bucket())
                .object(key).build()).get());
    }

    // ---- cache records and sealed objects: small objects, each in one PUT and one GET ----

    @Override
    void putSmall(String objectKey, byte[] content) throws IOException {
        retrier.call("PUT", objectKey, () -> client.putObject(PutObjectAPIArgs.builder().bucket(config.bucket())
                .object(objectKey).data(content, content.length).contentType("application/octet-stream").build())
                .get());
    }

    @Override
    Optional<byte[]> readSmall(String objectKey, int atMostBytes) throws IOException {
        return retrier.call("GET", objectKey, () -> {
            try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(config.bucket())
                    .object(objectKey).build()).get()) {
                return Optional.of(in.readNBytes(atMostBytes));
            } catch (Exception e) {
                if (S3Failures.isNotFound(e)) {
                    return Optional.<byte[]>empty();
                }
                throw e;
            }
        });
    }

    @Override
    String describe(String key) {
        return "s3://" + config.bucket() + "/" + key + " at " + config.endpoint();
    }

    @Override
    public void close() {
        executor.shutdownNow();
        client.close();
    }

    @Override
    public String toString() {
        return "S3BlobStore[" + config + "]";
    }
}
