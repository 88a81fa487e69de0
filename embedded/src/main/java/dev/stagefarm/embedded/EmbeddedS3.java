package dev.stagefarm.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;

/**
 * A real S3 HTTP endpoint inside this JVM, for tests and the all-in-one local farm.
 *
 * <p>It is S3Proxy with its own NIO.2 backends: a directory on disk (buckets are
 * sub-directories, objects are files) or an in-memory filesystem. Clients talk to it
 * exactly as they would to MinIO or AWS: over HTTP with AWS V4 signatures. It listens on
 * loopback only. Keep S3Proxy's loggers at WARN: at DEBUG its uploads are several times
 * slower.
 */
public final class EmbeddedS3 implements AutoCloseable {

    /** Access key used when the caller does not choose one. */
    public static final String DEFAULT_ACCESS_KEY = "stagefarm";
    /** Secret key used when the caller does not choose one; only loopback clients can use it. */
    public static final String DEFAULT_SECRET_KEY = "stagefarm-local-secret";

    private final S3Proxy proxy;
    private final String accessKey;
    private final String secretKey;
    private final Path dataDir;

    private EmbeddedS3(S3Proxy proxy, String accessKey, String secretKey, Path dataDir) {
        this.proxy = proxy;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.dataDir = dataDir;
    }

    /**
     * Starts a server with the default credentials.
     *
     * @param dataDir where objects are kept, or {@code null} to keep them in memory
     * @param port TCP port on 127.0.0.1, or 0 for a free one
     */
    public static EmbeddedS3 start(Path dataDir, int port) {
        return start(dataDir, port, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY);
    }

    /** Starts a server that accepts only the given credentials. */
    public static EmbeddedS3 start(Path dataDir, int port, String accessKey, String secretKey) {
        Objects.requireNonNull(accessKey, "accessKey");
        Objects.requireNonNull(secretKey, "secretKey");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        BlobStore backend = dataDir == null ? new TransientNio2BlobStore() : filesystemBackend(dataDir);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(backend)
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                // Large layers arrive as single PUTs from some clients; let them through.
                .maxSinglePartObjectSize(5L * 1024 * 1024 * 1024)
                .jettyMaxThreads(64)
                .build();
        try {
            proxy.start();
            awaitStarted(proxy);
        } catch (Exception e) {
            stopQuietly(proxy);
            throw new IllegalStateException("embedded S3 server failed to start on 127.0.0.1:" + port
                    + (dataDir == null ? " (in memory)" : " with data in " + dataDir) + ": " + e.getMessage(), e);
        }
        return new EmbeddedS3(proxy, accessKey, secretKey, dataDir);
    }

    private static BlobStore filesystemBackend(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the embedded S3 data directory " + dataDir, e);
        }
        return new FilesystemNio2BlobStore(dataDir.toAbsolutePath().toString());
    }

    private static void awaitStarted(S3Proxy proxy) throws InterruptedException {
        // start() returns once Jetty is bound in practice, but its state is the contract.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not reach STARTED, state " + proxy.getState());
            }
            Thread.sleep(5);
        }
    }

    /** The endpoint URL clients use, {@code http://127.0.0.1:PORT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port();
    }

    /** The TCP port the server listens on. */
    public int port() {
        return proxy.getPort();
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** Where objects are kept on disk, or {@code null} for an in-memory server. */
    public Path dataDir() {
        return dataDir;
    }

    /** Stops the server. The data directory, if any, is left as it is. */
    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("embedded S3 server on port " + port() + " failed to stop: " + e.getMessage(), e);
        }
    }

    private static void stopQuietly(S3Proxy proxy) {
        try {
            proxy.stop();
        } catch (Exception ignored) {
            // Already failing to start: the start error is the one worth reporting.
        }
    }
}
