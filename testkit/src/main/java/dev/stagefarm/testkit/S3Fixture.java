package dev.stagefarm.testkit;

import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.S3BlobStore;
import dev.stagefarm.oci.store.S3Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real S3 endpoint for tests: one {@link EmbeddedS3} per test JVM (filesystem backend in a temp directory, started
 * on first use, stopped and deleted when the JVM exits) and a fresh bucket per test class.
 *
 * <p>As a JUnit 5 extension, {@code @ExtendWith(S3Fixture.class)} gives each test class its own bucket and injects
 * {@link BlobStore}, {@link S3Config} or {@link EmbeddedS3} parameters (constructor, lifecycle or test methods):
 *
 * <pre>{@code
 * @ExtendWith(S3Fixture.class)
 * class MyTest {
 *     @Test void stores(BlobStore store) { ... }
 * }
 * }</pre>
 *
 * <p>Without the extension: {@link #newBucket(String)} and {@link #newStore(String)}.
 */
public final class S3Fixture implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(S3Fixture.class);
    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private static EmbeddedS3 server;

    /** The shared server, starting it on first use. */
    public static synchronized EmbeddedS3 server() {
        if (server == null) {
            EmbeddedS3 started = EmbeddedS3.start(TempDirectories.createDeletedAtExit("stagefarm-s3-"), 0);
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "stagefarm-s3-fixture-stop"));
            server = started;
        }
        return server;
    }

    /** Creates a new, empty bucket on the shared server; its name starts with a sanitised {@code hint}. */
    public static S3Config newBucket(String hint) {
        EmbeddedS3 s3 = server();
        String base = hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        String suffix = "-" + BUCKETS.incrementAndGet();
        String name = "t-" + (base.length() > 40 ? base.substring(0, 40) : base) + suffix;
        S3Config config = new S3Config(s3.endpoint(), s3.accessKey(), s3.secretKey(), name.replace("--", "-"));
        try (S3BlobStore store = BlobStore.connect(config)) {
            store.ensureBucket();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create test bucket " + config.bucket() + " on " + s3.endpoint(), e);
        }
        return config;
    }

    /** A store on a new, empty bucket; the caller closes it. */
    public static BlobStore newStore(String hint) {
        return BlobStore.connect(newBucket(hint));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        classStore(context);
    }

    private static ClassBucket classStore(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(testClass,
                c -> new ClassBucket(newBucket(testClass.getSimpleName())), ClassBucket.class);
    }

    /** The bucket of one test class and the store on it, closed when the class is done. */
    private record ClassBucket(S3Config config, BlobStore store) implements AutoCloseable {
        ClassBucket(S3Config config) {
            this(config, BlobStore.connect(config));
        }

        @Override
        public void close() {
            store.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == BlobStore.class || type == S3Config.class || type == EmbeddedS3.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        if (type == EmbeddedS3.class) {
            return server();
        }
        ClassBucket bucket = classStore(context);
        return type == BlobStore.class ? bucket.store() : bucket.config();
    }
}
