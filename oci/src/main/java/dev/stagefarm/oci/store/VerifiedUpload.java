package dev.stagefarm.oci.store;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestMismatchException;
import dev.stagefarm.oci.DigestingInputStream;
import io.minio.AbortMultipartUploadArgs;
import io.minio.CompleteMultipartUploadArgs;
import io.minio.CreateMultipartUploadArgs;
import io.minio.Http;
import io.minio.MinioAsyncClient;
import io.minio.PutObjectAPIArgs;
import io.minio.UploadPartArgs;
import io.minio.messages.Part;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.zip.CRC32C;

/**
 * Streams content to one object key while checking it against the digest and size it was promised. The object only
 * becomes visible when the check passes: small content goes up in one PUT after it has been read and checked; larger
 * content goes up as a multipart upload whose parts are sent while the rest is still being read, and which is
 * completed only after the last byte matched (otherwise it is aborted, leaving nothing behind).
 */
final class VerifiedUpload {

    private static final String CONTENT_TYPE = "application/octet-stream";
    private final MinioAsyncClient client;
    private final String bucket;
    private final Retrier retrier;
    private final int partSize;
    private final int partsInFlight;
    private final ExecutorService executor;
    private final boolean unsignedPayload;

    /**
     * @param unsignedPayload send bodies as UNSIGNED-PAYLOAD with a CRC32C ({@link #payloadHeaders}); when
     *     false, the SDK signs each body's SHA-256 (its default over plain HTTP)
     */
    VerifiedUpload(MinioAsyncClient client, String bucket, Retrier retrier, int partSize, int partsInFlight,
                   ExecutorService executor, boolean unsignedPayload) {
        this.client = client;
        this.bucket = bucket;
        this.retrier = retrier;
        this.partSize = partSize;
        this.partsInFlight = partsInFlight;
        this.executor = executor;
        this.unsignedPayload = unsignedPayload;
    }

    /**
     * Headers for one data request: UNSIGNED-PAYLOAD, so that the SDK does not SHA-256 the body for the request
     * signature (it does over plain HTTP) and the server does not SHA-256 it again to check it (S3Proxy even reads a
     * signed body whole into memory first); and the body's CRC32C, computed here with the JDK's intrinsic (tens of
     * GB/s) because the SDK would otherwise add one computed a byte at a time in Java (~1 ns per byte). Measured on 2
     * cores, those three passes cost more than the rest of an upload. Integrity still holds: our own digest is checked
     * while streaming and before anything is published, the server rejects a body whose CRC32C differs, and every
     * read is verified against the digest again. This is also what the SDK sends by itself over HTTPS. Over plain
     * HTTP across a network the payload signature is what stops a body altered on the way from being stored, so
     * there it is used only when StoreOptions says the network is trusted; otherwise the SDK signs as it does by default.
     */
    private Http.Headers payloadHeaders(byte[] data, int length) {
        if (!unsignedPayload) {
            return new Http.Headers();
        }
        CRC32C crc = new CRC32C();
        crc.update(data, 0, length);
        return crc32cHeaders((int) crc.getValue());
    }

    private static Http.Headers crc32cHeaders(int crc32c) {
        byte[] value = ByteBuffer.allocate(Integer.BYTES).putInt(crc32c).array();
        // A fresh instance per request: the SDK's Headers are mutable.
        return new Http.Headers(Http.Headers.X_AMZ_CONTENT_SHA256, "UNSIGNED-PAYLOAD",
                "x-amz-checksum-crc32c", Base64.getEncoder().encodeToString(value),
                Http.Headers.X_AMZ_SDK_CHECKSUM_ALGORITHM, "CRC32C");
    }

    /**
     * Uploads a file this process wrote and hashed itself in one PUT streamed from the file: its digest is not
     * computed again (the writer's own pass is the check), the SDK streams the body from the file without holding it
     * in memory, and the store writes the object once (a multipart upload's parts are written, then read and written
     * again when S3Proxy or a filesystem-backed store assembles them). The CRC32C sent with it is computed here from
     * the file (the JDK's intrinsic, a page-cache read), so that a body damaged on the way is still refused.
     *
     * @throws IOException also when the file's size is not {@code size} (it changed since it was hashed)
     */
    long uploadFile(String key, long size, Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            if (raf.length() != size) {
                throw new IOException("upload to s3://" + bucket + "/" + key + " refused: " + file + " holds "
                        + raf.length() + " bytes, " + size + " were hashed");
            }
            int crc32c = unsignedPayload ? fileCrc32c(raf.getChannel(), size) : 0;
            retrier.call("PUT", key, () -> {
                raf.seek(0); // a retry sends the file from its start again
                return client.putObject(PutObjectAPIArgs.builder().bucket(bucket).object(key).file(raf, size)
                        .headers(unsignedPayload ? crc32cHeaders(crc32c) : new Http.Headers())
                        .contentType(CONTENT_TYPE).build()).get();
            });
            return size;
        }
    }

    private static int fileCrc32c(FileChannel channel, long size) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        long position = 0;
        while (position < size) {
            buffer.clear();
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new IOException("file ended at " + position + " of " + size + " bytes while it was checksummed");
            }
            buffer.flip();
            crc.update(buffer);
            position += n;
        }
        return (int) crc.getValue();
    }

    /** One part's bytes as read from the stream; {@code last} when the stream ended within or right after it. */
    private record Chunk(byte[] bytes, int length, boolean last) {
    }

    /**
     * Uploads {@code content} to {@code key}.
     *
     * @param expectedSize the promised size, or -1 when unknown
     * @return the number of bytes uploaded
     * @throws DigestMismatchException when the content is not what was promised; nothing is stored then
     */
    long upload(String key, Digest expected, long expectedSize, InputStream content) throws IOException {
        DigestingInputStream digesting = new DigestingInputStream(content);
        PushbackInputStream in = new PushbackInputStream(digesting, 1);
        Chunk first = readChunk(in, digesting, expected, expectedSize, key);
        if (first.last()) {
            verify(digesting, expected, expectedSize, key);
            retrier.call("PUT", key, () -> client.putObject(PutObjectAPIArgs.builder().bucket(bucket).object(key)
                    .data(first.bytes(), first.length())
                    .headers(payloadHeaders(first.bytes(), first.length())).contentType(CONTENT_TYPE).build()).get());
            return first.length();
        }
        return multipart(key, expected, expectedSize, in, digesting, first);
    }

    private long multipart(String key, Digest expected, long expectedSize, PushbackInputStream in,
                           DigestingInputStream digesting, Chunk first) throws IOException {
        String uploadId = retrier.call("create multipart upload", key, () -> client.createMultipartUpload(
                CreateMultipartUploadArgs.builder().bucket(bucket).object(key).build()).get().result().uploadId());
        List<Future<Part>> parts = new ArrayList<>();
        // Bounds memory: a part's buffer is only allocated once a slot is free.
        Semaphore slots = new Semaphore(partsInFlight);
        boolean completed = false;
        try {
            Chunk chunk = first;
            acquire(slots, key);
            while (true) {
                parts.add(submitPart(key, uploadId, parts.size() + 1, chunk, slots));
                if (chunk.last()) {
                    break;
                }
                acquire(slots, key);
                failFast(parts, key);
                chunk = readChunk(in, digesting, expected, expectedSize, key);
            }
            verify(digesting, expected, expectedSize, key);
            Part[] uploaded = new Part[parts.size()];
            for (int i = 0; i < uploaded.length; i++) {
                uploaded[i] = await(parts.get(i), key);
            }
            retrier.call("complete multipart upload", key, () -> client.completeMultipartUpload(
                    CompleteMultipartUploadArgs.builder().bucket(bucket).object(key).uploadId(uploadId)
                            .parts(uploaded).build()).get());
            completed = true;
            return digesting.count();
        } finally {
            if (!completed) {
                parts.forEach(p -> p.cancel(true));
                abortQuietly(key, uploadId);
            }
        }
    }

    /** A part that already failed for good fails the upload now, not after the rest of the stream was read. */
    private static void failFast(List<Future<Part>> parts, String key) throws IOException {
        for (Future<Part> part : parts) {
            if (part.isDone()) {
                await(part, key);
            }
        }
    }

    private Future<Part> submitPart(String key, String uploadId, int number, Chunk chunk, Semaphore slots) {
        return executor.submit(() -> {
            try {
                return retrier.call("upload part " + number, key, () -> {
                    var response = client.uploadPart(UploadPartArgs.builder().bucket(bucket).object(key)
                            .uploadId(uploadId).partNumber(number).data(chunk.bytes(), chunk.length())
                            .headers(payloadHeaders(chunk.bytes(), chunk.length())).build()).get();
                    return new Part(number, response.part().etag());
                });
            } finally {
                slots.release();
            }
        });
    }

    private Chunk readChunk(PushbackInputStream in, DigestingInputStream digesting, Digest expected, long expectedSize,
                            String key) throws IOException {
        byte[] buffer = new byte[partSize];
        int length = in.readNBytes(buffer, 0, partSize);
        boolean last;
        if (length < partSize) {
            last = true;
        } else {
            int next = in.read();
            last = next < 0;
            if (!last) {
                in.unread(next);
            }
        }
        // A stream longer than promised is caught as soon as it overruns, not after uploading all of it.
        if (expectedSize >= 0 && digesting.count() > expectedSize) {
            long read = digesting.count();
            throw new DigestMismatchException(expected, digesting.digest(), "upload to s3://" + bucket + "/" + key + " refused: content is longer than the promised "
                    + expectedSize + " bytes: the digest given is of the first " + read + " bytes");
        }
        return new Chunk(buffer, length, last);
    }

    private void verify(DigestingInputStream digesting, Digest expected, long expectedSize, String key)
            throws IOException {
        Digest actual = digesting.digest();
        String where = "upload to s3://" + bucket + "/" + key + " refused";
        if (expectedSize >= 0 && digesting.count() != expectedSize) {
            throw new DigestMismatchException(expected, actual,
                    where + ": " + digesting.count() + " bytes, expected " + expectedSize);
        }
        if (!actual.equals(expected)) {
            throw new DigestMismatchException(expected, actual, where + ": content digest differs");
        }
    }

    private static void acquire(Semaphore slots, String key) throws IOException {
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("upload of " + key + " interrupted");
        }
    }

    private static Part await(Future<Part> part, String key) throws IOException {
        try {
            return part.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("upload of " + key + " failed: " + S3Failures.describe(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("upload of " + key + " interrupted");
        }
    }

    private void abortQuietly(String key, String uploadId) {
        try {
            client.abortMultipartUpload(AbortMultipartUploadArgs.builder().bucket(bucket).object(key)
                    .uploadId(uploadId).build()).get();
        } catch (Exception e) {
            // The upload is being abandoned for a reason already reported; a leftover is cleaned up by the
            // bucket's lifecycle rule for incomplete multipart uploads.
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
