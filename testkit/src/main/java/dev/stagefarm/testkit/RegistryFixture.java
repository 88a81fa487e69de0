package dev.stagefarm.testkit;

import dev.stagefarm.oci.registry.ImageReference;
import dev.stagefarm.oci.registry.RegistrySettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real registry for tests: Debian's {@code docker-registry} (CNCF distribution) as a child process on a free
 * loopback port, storing into a temp directory, reached over plain HTTP. {@link #shared()} is one registry without
 * authentication per test JVM; {@link #startWithBasicAuth} and {@link #startWithTokenAuth} start extra ones that the
 * caller closes. Every registry started here is killed when the JVM exits.
 */
public final class RegistryFixture implements AutoCloseable {

    private static final String BINARY = "docker-registry";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);
    private static RegistryFixture shared;

    private final Process process;
    private final int port;
    private final Path dir;
    private final Path log;

    private RegistryFixture(Process process, int port, Path dir, Path log) {
        this.process = process;
        this.port = port;
        this.dir = dir;
        this.log = log;
    }

    /** The per-JVM registry without authentication, started on first use. */
    public static synchronized RegistryFixture shared() {
        if (shared == null) {
            shared = start("", "shared");
        }
        return shared;
    }

    /** A new registry that requires HTTP Basic authentication with this user; the caller closes it. */
    public static RegistryFixture startWithBasicAuth(String user, String password) {
        Path dir = TempDirectories.createDeletedAtExit("stagefarm-registry-htpasswd-");
        Path htpasswd = dir.resolve("htpasswd");
        run(List.of("htpasswd", "-Bbc", htpasswd.toString(), user, password), "create " + htpasswd);
        return start("""
                auth:
                  htpasswd:
                    realm: stagefarm-test
                    path: %s
                """.formatted(htpasswd), "basic-auth");
    }

    /**
     * A new registry that requires bearer tokens from {@code realm}, signed by the key of the certificate in
     * {@code rootCertBundle} (PEM); the caller closes it.
     */
    public static RegistryFixture startWithTokenAuth(String realm, String service, String issuer, Path rootCertBundle) {
        return start("""
                auth:
                  token:
                    realm: %s
                    service: %s
                    issuer: %s
                    rootcertbundle: %s
                """.formatted(realm, service, issuer, rootCertBundle), "token-auth");
    }

    private static RegistryFixture start(String authSection, String name) {
        IOException lastFailure = null;
        // A port found free can be taken before the registry binds it: try a few.
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                return startOnce(authSection, name);
            } catch (IOException e) {
                lastFailure = e;
            }
        }
        throw new UncheckedIOException("cannot start a test registry (" + name + ")", lastFailure);
    }

    private static RegistryFixture startOnce(String authSection, String name) throws IOException {
        Path dir = TempDirectories.createDeletedAtExit("stagefarm-registry-" + name + "-");
        int port = freePort();
        Path config = dir.resolve("config.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:%d
                %s""".formatted(dir.resolve("data"), port, authSection), StandardCharsets.UTF_8);
        Path log = dir.resolve("registry.log");
        Process process;
        try {
            process = new ProcessBuilder(BINARY, "serve", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + BINARY + "' (install the Debian package docker-registry): "
                    + e.getMessage(), e);
        }
        RegistryFixture registry = new RegistryFixture(process, port, dir, log);
        Runtime.getRuntime().addShutdownHook(new Thread(registry::kill, "stop registry " + port));
        registry.awaitReady();
        return registry;
    }

    private void awaitReady() throws IOException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IOException("docker-registry exited with " + process.exitValue() + ": " + logTail());
                }
                try {
                    int status = http.send(HttpRequest.newBuilder(URI.create(url() + "/v2/")).timeout(Duration.ofSeconds(2))
                            .GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                    if (status == 200 || status == 401) {
                        return;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
            throw new java.io.InterruptedIOException("interrupted while starting docker-registry");
        }
        kill();
        throw new IOException("docker-registry on port " + port + " not ready within " + READY_TIMEOUT + ": " + logTail());
    }

    /** {@code 127.0.0.1:PORT}: the registry part of image references. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String url() {
        return "http://" + host();
    }

    /** A reference into this registry, e.g. {@code reference("library/busybox:latest")}. */
    public ImageReference reference(String repositoryAndTag) {
        return ImageReference.parse(host() + "/" + repositoryAndTag);
    }

    /** Client settings that allow plain HTTP to this registry. */
    public RegistrySettings settings() {
        return RegistrySettings.empty().withInsecure(host());
    }

    /** The registry's storage directory (the distribution filesystem layout). */
    public Path storageDir() {
        return dir.resolve("data");
    }

    /** The last lines the registry logged, for failure messages. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (this == shared) {
            return; // the shared registry lives until the JVM exits
        }
        kill();
        TempDirectories.deleteQuietly(dir);
    }

    private void kill() {
        process.destroy();
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void run(List<String> command, String what) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("cannot " + what + ": " + String.join(" ", command.subList(0, 1))
                        + " exited with " + p.exitValue() + ": " + out.strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot " + what + ": cannot run " + command.get(0)
                    + " (install the Debian package apache2-utils)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + what, e);
        }
    }
}
