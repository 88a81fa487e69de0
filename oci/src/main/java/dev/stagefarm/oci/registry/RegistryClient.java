package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.oci.BlobSink;
import dev.stagefarm.oci.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import dev.stagefarm.oci.store.VerifyingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of the OCI distribution API: resolve references, fetch manifests, configs and layers, push blobs and
 * manifests. Registries are HTTPS unless {@link RegistrySettings#insecure() configured} otherwise; pulls try the
 * configured mirrors of a registry first. Thread-safe; share one instance.
 */
public final class RegistryClient implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);
    private static final int MAX_REDIRECTS = 5;

    private final RegistrySettings settings;
    /**
     * Built on a thread of its own from the constructor on: its TLS context (the JDK's trust store, the JCE
     * providers) takes ~0.1-0.3 s of CPU on a cold JVM, which a one-shot farm's start would otherwise wait for; the
     * first request, seconds later, finds it ready (bench/README.md, "Session 11").
     */
    private final CompletableFuture<HttpClient> http;
    private final Map<String, RegistryHttp> endpoints = new ConcurrentHashMap<>();
    /** Whether closing this client closes {@link #http} (a client {@link #withSettings derived} from another does not). */
    private final boolean ownsHttp;

    public RegistryClient(RegistrySettings settings) {
        this(settings, CompletableFuture.supplyAsync(RegistryClient::newHttpClient,
                task -> Thread.ofPlatform().daemon().name("stagefarm-registry-http").start(task)), true);
    }

    private static HttpClient newHttpClient() {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                // Redirects are followed by hand: credentials must not travel to a blob storage host.
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** The HTTP client, once built (at once after the first call); its build's failure as an unchecked one. */
    private HttpClient http() {
        try {
            return http.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r
                    : new IllegalStateException("building the registry's HTTP client failed: " + e.getCause(), e);
        }
    }

    private RegistryClient(RegistrySettings settings, CompletableFuture<HttpClient> http, boolean ownsHttp) {
        this.settings = settings;
        this.http = http;
        this.ownsHttp = ownsHttp;
    }

    /**
     * A client with other settings (one build's credentials) on this client's connections, with its own token cache:
     * nothing one build's credentials obtained (a bearer token) serves another. Closing it leaves this client open.
     */
    public RegistryClient withSettings(RegistrySettings other) {
        return new RegistryClient(other, http, false);
    }

    public RegistrySettings settings() {
        return settings;
    }

    // ---- pull ----

    /**
     * Fetches the manifest or index a reference names, as served (digest verified against the reference's digest
     * when it has one).
     */
    public ManifestResponse fetchManifest(ImageReference ref) throws IOException {
        return onPullEndpoints(ref, endpoint -> fetchManifestFrom(endpoint, ref));
    }

    private ManifestResponse fetchManifestFrom(RegistryHttp endpoint, ImageReference ref) throws IOException {
        String what = "GET manifest " + ref + " from " + endpoint.host();
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint.uri(manifestPath(ref)))
                .timeout(REQUEST_TIMEOUT).header("Accept", MediaTypes.MANIFEST_ACCEPT).GET();
        HttpResponse<InputStream> response = endpoint.send(what, request, pullScope(ref), true);
        byte[] bytes = readBody(what, response, 200, 4 << 20);
        Digest digest = Digest.of(bytes);
        if (ref.digest() != null && !ref.digest().equals(digest)) {
            throw new RegistryException(what + ": the registry served content with digest " + digest
                    + ", not the " + ref.digest() + " asked for", 200, List.of("DIGEST_INVALID"), null);
        }
        String mediaType = response.headers().firstValue("Content-Type")
                .map(t -> t.split(";")[0].trim().toLowerCase(Locale.ROOT))
                .filter(t -> MediaTypes.isManifest(t) || MediaTypes.isIndex(t))
                .orElseGet(() -> ImageJson.sniffMediaType(bytes));
        return new ManifestResponse(digest, mediaType, bytes);
    }

    /**
     * The digest a reference resolves to (the index's digest for multi-platform images). Asks with HEAD, which Docker
     * Hub does not count against its pull rate limit, and falls back to GET when the registry sends no digest header.
     */
    public Digest resolveDigest(ImageReference ref) throws IOException {
        if (ref.digest() != null) {
            return ref.digest();
        }
        Optional<Digest> headed = onPullEndpoints(ref, endpoint -> headManifestDigest(endpoint, ref));
        return headed.isPresent() ? headed.get() : fetchManifest(ref).digest();
    }

    private Optional<Digest> headManifestDigest(RegistryHttp endpoint, ImageReference ref) throws IOException {
        String what = "HEAD manifest " + ref + " at " + endpoint.host();
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint.uri(manifestPath(ref)))
                .timeout(REQUEST_TIMEOUT).header("Accept", MediaTypes.MANIFEST_ACCEPT)
                .method("HEAD", BodyPublishers.noBody());
        HttpResponse<InputStream> response = endpoint.send(what, request, pullScope(ref), true);
        RegistryHttp.discard(response);
        if (response.statusCode() != 200) {
            throw failure(what, response.statusCode(), new byte[0]);
        }
        return response.headers().firstValue("Docker-Content-Digest").filter(Digest::isValid).map(Digest::parse);
    }

    /**
     * Resolves a reference to the image manifest for {@code platform}: when the reference names an index (manifest
     * list), picks that platform's entry and fetches it.
     *
     * @throws dev.stagefarm.oci.image.NoMatchingPlatformException when the index has no such platform
     */
    public ResolvedImage resolve(ImageReference ref, Platform platform) throws IOException {
        ManifestResponse top = fetchManifest(ref);
        if (MediaTypes.isIndex(top.mediaType())) {
            ImageIndex index = ImageJson.readIndex(top.bytes());
            Descriptor chosen = index.selectOrThrow(platform);
            ManifestResponse manifest = fetchManifest(ref.withDigest(chosen.digest()));
            return new ResolvedImage(ref, Optional.of(top.digest()), manifest, ImageJson.readManifest(manifest.bytes()));
        }
        return new ResolvedImage(ref, Optional.empty(), top, ImageJson.readManifest(top.bytes()));
    }

    /** Whether the repository has the blob (a HEAD request to the registry itself, not a mirror). */
    public boolean blobExists(ImageReference repo, Digest digest) throws IOException {
        RegistryHttp endpoint = endpoint(repo.apiHost(), repo.registry());
        String what = "HEAD blob " + digest + " in " + repo.name();
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint.uri(blobPath(repo, digest)))
                .timeout(REQUEST_TIMEOUT).method("HEAD", BodyPublishers.noBody());
        HttpResponse<InputStream> response = endpoint.send(what, request, pullScope(repo), true);
        RegistryHttp.discard(response);
        return switch (response.statusCode()) {
            case 200, 307, 302 -> true;
            case 404 -> false;
            default -> throw failure(what, response.statusCode(), new byte[0]);
        };
    }

    /**
     * Opens a blob of the repository for streaming; reading it to the end verifies its digest.
     *
     * @throws RegistryException with {@link RegistryException#notFound()} when the repository has no such blob
     */
    public InputStream openBlob(ImageReference repo, Digest digest) throws IOException {
        return onPullEndpoints(repo, endpoint -> openBlobFrom(endpoint, repo, digest));
    }

    private InputStream openBlobFrom(RegistryHttp endpoint, ImageReference repo, Digest digest) throws IOException {
        String what = "GET blob " + digest + " of " + repo.name() + " from " + endpoint.host();
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint.uri(blobPath(repo, digest)))
                .timeout(REQUEST_TIMEOUT).GET();
        HttpResponse<InputStream> response = endpoint.send(what, request, pullScope(repo), true);
        for (int redirects = 0; isRedirect(response.statusCode()); redirects++) {
            URI location = response.request().uri().resolve(response.headers().firstValue("Location")
                    .orElseThrow(() -> failure(what + ": redirect without a Location", 0, new byte[0])));
            RegistryHttp.discard(response);
            if (redirects == MAX_REDIRECTS) {
                throw new RegistryException(what + " failed: more than " + MAX_REDIRECTS + " redirects", null);
            }
            // Storage backends get no registry credentials: the redirect URL carries its own authorisation.
            response = sendPlain(what, HttpRequest.newBuilder(location).timeout(REQUEST_TIMEOUT).GET());
        }
        if (response.statusCode() != 200) {
            byte[] body = readQuietly(response);
            throw failure(what, response.statusCode(), body);
        }
        long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        return new VerifyingInputStream(response.body(), digest, length, "registry " + endpoint.host() + " (" + repo.name() + ")");
    }

    /** Reads a whole small blob (an image config) into memory, verified. */
    public byte[] fetchBlob(ImageReference repo, Digest digest) throws IOException {
        try (InputStream in = openBlob(repo, digest)) {
            return in.readAllBytes();
        }
    }

    /** The blobs of one repository as a {@link BlobSource}, e.g. to export or cache a pulled image. */
    public BlobSource blobSource(ImageReference repo) {
        return digest -> openBlob(repo, digest);
    }

    // ---- push ----

    /**
     * A repository as a {@link BlobSink}, so that image builders and exporters can write straight to a registry:
     * {@code contains} is a HEAD, {@code put} a monolithic upload of the given stream (skipped when present).
     */
    public BlobSink blobSink(ImageReference repo) {
        return new BlobSink() {
            @Override
            public void put(Digest digest, long size, InputStream content) throws IOException {
                if (size < 0) {
                    throw new IllegalArgumentException("pushing " + digest + " to " + repo.name() + " needs its size");
                }
                pushBlob(repo, digest, size, d -> content, PushOptions.MONOLITHIC);
            }

            @Override
            public boolean contains(Digest digest) throws IOException {
                return blobExists(repo, digest);
            }
        };
    }

    /**
     * Pushes a blob unless the repository has it: HEAD first, then (when {@code options} names a source repository)
     * a cross-repository mount, then an upload, monolithic or in chunks.
     */
    public PushResult pushBlob(ImageReference repo, Digest digest, long size, BlobSource source, PushOptions options)
            throws IOException {
        if (blobExists(repo, digest)) {
            return PushResult.ALREADY_PRESENT;
        }
        RegistryHttp endpoint = endpoint(repo.apiHost(), repo.registry());
        String what = "push blob " + digest + " to " + repo.name();
        String startPath = "/v2/" + repo.repository() + "/blobs/uploads/";
        List<String> scopes = new ArrayList<>(pushScope(repo));
        if (options.mountFrom().isPresent()) {
            String from = options.mountFrom().get();
            startPath += "?mount=" + digest + "&from=" + from;
            scopes.add("repository:" + from + ":pull");
        }
        HttpResponse<InputStream> started = endpoint.send(what, HttpRequest.newBuilder(endpoint.uri(startPath))
                .timeout(REQUEST_TIMEOUT).POST(BodyPublishers.noBody()), scopes, true);
        if (started.statusCode() == 201 && options.mountFrom().isPresent()) {
            RegistryHttp.discard(started);
            return PushResult.MOUNTED;
        }
        URI location = uploadLocation(what, started);
        if (options.chunkSize() == 0) {
            putMonolithic(endpoint, what, location, digest, size, source, scopes);
        } else {
            putChunked(endpoint, what, location, digest, source, options.chunkSize(), scopes);
        }
        return PushResult.UPLOADED;
    }

    private void putMonolithic(RegistryHttp endpoint, String what, URI location, Digest digest, long size,
                               BlobSource source, List<String> scopes) throws IOException {
        HttpRequest.BodyPublisher body = BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(() -> {
            try {
                return source.open(digest);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }), size);
        HttpResponse<InputStream> done = endpoint.send(what, HttpRequest.newBuilder(withDigest(location, digest))
                .timeout(REQUEST_TIMEOUT.multipliedBy(5)).header("Content-Type", "application/octet-stream")
                .PUT(body), scopes, false);
        expect(what, done, 201);
    }

    private void putChunked(RegistryHttp endpoint, String what, URI location, Digest digest, BlobSource source,
                            int chunkSize, List<String> scopes) throws IOException {
        URI next = location;
        long offset = 0;
        try (InputStream in = source.open(digest)) {
            while (true) {
                byte[] chunk = in.readNBytes(chunkSize);
                if (chunk.length == 0) {
                    break;
                }
                HttpResponse<InputStream> patched = endpoint.send(what + " (chunk at " + offset + ")",
                        HttpRequest.newBuilder(next).timeout(REQUEST_TIMEOUT)
                                .header("Content-Type", "application/octet-stream")
                                .header("Content-Range", offset + "-" + (offset + chunk.length - 1))
                                .method("PATCH", BodyPublishers.ofByteArray(chunk)), scopes, true);
                next = uploadLocation(what, patched);
                offset += chunk.length;
            }
        }
        HttpResponse<InputStream> done = endpoint.send(what, HttpRequest.newBuilder(withDigest(next, digest))
                .timeout(REQUEST_TIMEOUT).header("Content-Type", "application/octet-stream")
                .PUT(BodyPublishers.noBody()), scopes, true);
        expect(what, done, 201);
    }

    /** Asks the registry to link a blob from another repository; false when it could not (then upload it). */
    public boolean mountBlob(ImageReference repo, Digest digest, String fromRepository) throws IOException {
        RegistryHttp endpoint = endpoint(repo.apiHost(), repo.registry());
        String what = "mount blob " + digest + " from " + fromRepository + " into " + repo.name();
        List<String> scopes = new ArrayList<>(pushScope(repo));
        scopes.add("repository:" + fromRepository + ":pull");
        HttpResponse<InputStream> response = endpoint.send(what, HttpRequest.newBuilder(endpoint.uri(
                "/v2/" + repo.repository() + "/blobs/uploads/?mount=" + digest + "&from=" + fromRepository))
                .timeout(REQUEST_TIMEOUT).POST(BodyPublishers.noBody()), scopes, true);
        if (response.statusCode() == 201) {
            RegistryHttp.discard(response);
            return true;
        }
        if (response.statusCode() == 202) {
            // The registry opened an upload instead; cancel it, the caller uploads in its own way.
            URI location = uploadLocation(what, response);
            RegistryHttp.discard(endpoint.send(what, HttpRequest.newBuilder(location).timeout(REQUEST_TIMEOUT)
                    .DELETE(), scopes, true));
            return false;
        }
        throw failure(what, response.statusCode(), readQuietly(response));
    }

    /**
     * Pushes a manifest (or index) under the reference's tag, or by digest when the reference has no tag.
     *
     * @return the manifest's digest
     */
    public Digest pushManifest(ImageReference ref, String mediaType, byte[] bytes) throws IOException {
        Digest digest = Digest.of(bytes);
        RegistryHttp endpoint = endpoint(ref.apiHost(), ref.registry());
        String target = ref.tag() != null ? ref.tag() : digest.toString();
        String what = "push manifest " + ref.name() + ":" + target;
        HttpResponse<InputStream> response = endpoint.send(what, HttpRequest.newBuilder(
                endpoint.uri("/v2/" + ref.repository() + "/manifests/" + target)).timeout(REQUEST_TIMEOUT)
                .header("Content-Type", mediaType).PUT(BodyPublishers.ofByteArray(bytes)), pushScope(ref), true);
        expect(what, response, 201);
        response.headers().firstValue("Docker-Content-Digest").ifPresent(served -> {
            if (!served.equals(digest.toString())) {
                log.warn("{}: registry reports digest {}, we computed {}", what, served, digest);
            }
        });
        return digest;
    }

    /**
     * Pushes a whole image: its config and layers (each skipped when present), then the manifest.
     *
     * @return the manifest's digest
     */
    public Digest pushImage(ImageReference ref, byte[] manifestBytes, BlobSource blobs, PushOptions options)
            throws IOException {
        ImageManifest manifest = ImageJson.readManifest(manifestBytes);
        List<Descriptor> blobsToPush = new ArrayList<>(manifest.layers());
        blobsToPush.add(manifest.config());
        for (Descriptor blob : blobsToPush) {
            if (!MediaTypes.isForeignLayer(blob.mediaType())) {
                pushBlob(ref, blob.digest(), blob.size(), blobs, options);
            }
        }
        return pushManifest(ref, manifest.mediaType(), manifestBytes);
    }

    // ---- plumbing ----

    @FunctionalInterface
    private interface EndpointCall<T> {
        T call(RegistryHttp endpoint) throws IOException;
    }

    /** Tries the registry's mirrors in order, then the registry itself; the last failure is thrown. */
    private <T> T onPullEndpoints(ImageReference ref, EndpointCall<T> call) throws IOException {
        List<String> mirrors = settings.mirrorsOf(ref.registry());
        IOException failure = null;
        for (String mirror : mirrors) {
            try {
                return call.call(endpoint(mirror, mirror));
            } catch (IOException e) {
                log.debug("mirror {} failed for {}: {}", mirror, ref, e.getMessage());
                failure = e;
            }
        }
        try {
            return call.call(endpoint(ref.apiHost(), ref.registry()));
        } catch (IOException e) {
            if (failure != null) {
                e.addSuppressed(failure);
            }
            throw e;
        }
    }

    /**
     * @param host where the API is
     * @param registryName the registry as users name it: decides insecure access and credentials
     */
    private RegistryHttp endpoint(String host, String registryName) {
        return endpoints.computeIfAbsent(host, h -> new RegistryHttp(http(), h,
                settings.isInsecure(registryName) || settings.isInsecure(h),
                settings.credentialsFor(registryName).or(() -> settings.credentialsFor(h))));
    }

    private HttpResponse<InputStream> sendPlain(String what, HttpRequest.Builder request) throws IOException {
        try {
            return http().send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(what + " interrupted");
        }
    }

    private static List<String> pullScope(ImageReference ref) {
        return List.of("repository:" + ref.repository() + ":pull");
    }

    private static List<String> pushScope(ImageReference ref) {
        return List.of("repository:" + ref.repository() + ":pull,push");
    }

    private static String manifestPath(ImageReference ref) {
        return "/v2/" + ref.repository() + "/manifests/" + ref.manifestReference();
    }

    private static String blobPath(ImageReference repo, Digest digest) {
        return "/v2/" + repo.repository() + "/blobs/" + digest;
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI uploadLocation(String what, HttpResponse<InputStream> response) throws IOException {
        if (response.statusCode() != 202) {
            throw failure(what, response.statusCode(), readQuietly(response));
        }
        String location = response.headers().firstValue("Location").orElseThrow(() ->
                new RegistryException(what + " failed: upload response without a Location header", 202, List.of(), null));
        RegistryHttp.discard(response);
        return response.request().uri().resolve(location);
    }

    private static URI withDigest(URI location, Digest digest) {
        String s = location.toString();
        return URI.create(s + (s.contains("?") ? "&" : "?") + "digest=" + digest);
    }

    private static void expect(String what, HttpResponse<InputStream> response, int status) throws IOException {
        if (response.statusCode() != status) {
            throw failure(what, response.statusCode(), readQuietly(response));
        }
        RegistryHttp.discard(response);
    }

    private static byte[] readBody(String what, HttpResponse<InputStream> response, int status, int limit)
            throws IOException {
        try (InputStream body = response.body()) {
            byte[] bytes = body.readNBytes(limit + 1);
            if (response.statusCode() != status) {
                throw failure(what, response.statusCode(), bytes);
            }
            if (bytes.length > limit) {
                throw new RegistryException(what + ": response larger than " + limit + " bytes", response.statusCode(),
                        List.of(), null);
            }
            return bytes;
        }
    }

    private static byte[] readQuietly(HttpResponse<InputStream> response) {
        try (InputStream body = response.body()) {
            return body.readNBytes(64 * 1024);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /** An error naming the request, the status and the registry's error codes and messages. */
    private static RegistryException failure(String what, int status, byte[] body) {
        List<String> codes = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        try {
            JsonNode errors = body.length == 0 ? null : JSON.readTree(body).get("errors");
            if (errors != null && errors.isArray()) {
                for (JsonNode error : errors) {
                    String code = error.path("code").asText("");
                    codes.add(code);
                    messages.add(code + (error.hasNonNull("message") ? " (" + error.get("message").asText() + ")" : ""));
                }
            }
        } catch (IOException | RuntimeException notJson) {
            // keep the raw body below
        }
        String detail = !messages.isEmpty() ? String.join("; ", messages)
                : body.length > 0 ? RegistryHttp.snippet(body) : "";
        String reason = switch (status) {
            case 404 -> "not found";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            default -> "HTTP " + status;
        };
        return new RegistryException(what + " failed: " + reason + (status == 0 ? "" : " (HTTP " + status + ")")
                + (detail.isEmpty() ? "" : ": " + detail), status, codes, null);
    }

    @Override
    public void close() {
        if (ownsHttp) {
            http().close(); // one still being built is waited for: no selector thread outlives the client
        }
    }
}
