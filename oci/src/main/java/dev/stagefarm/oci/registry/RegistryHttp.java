package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP to one registry host, with its authentication: anonymous until the registry answers 401, then Basic (with the
 * configured credentials) or the bearer-token flow (challenge → token endpoint → {@code Authorization: Bearer}), with
 * tokens cached per scope set until they expire. Requests without a body are retried on transient failures.
 */
final class RegistryHttp {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ATTEMPTS = 3;
    private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);

    private record Token(String header, Instant expires) {
    }

    private final HttpClient http;
    private final String host;
    private final URI base;
    private final Optional<RegistryCredentials> credentials;
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    private volatile boolean basicChallenged;

    RegistryHttp(HttpClient http, String host, boolean insecure, Optional<RegistryCredentials> credentials) {
        this.http = http;
        this.host = host;
        this.base = URI.create((insecure ? "http://" : "https://") + host);
        this.credentials = credentials;
    }

    String host() {
        return host;
    }

    URI uri(String pathAndQuery) {
        return base.resolve(pathAndQuery);
    }

    /**
     * Sends a request, authenticating as the registry demands.
     *
     * @param what how errors name the request, e.g. {@code GET manifest 127.0.0.1:5000/library/busybox:latest}
     * @param scopes the token scopes the request needs, e.g. {@code repository:library/busybox:pull}
     * @param replayable whether the request may be sent again (no streamed body): only those are retried and
     *     re-sent after a 401
     */
    HttpResponse<InputStream> send(String what, HttpRequest.Builder request, List<String> scopes, boolean replayable)
            throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= (replayable ? MAX_ATTEMPTS : 1); attempt++) {
            try {
                HttpResponse<InputStream> response = sendOnce(request, cachedAuthorization(scopes));
                if (response.statusCode() == 401 && replayable) {
                    String challenge = response.headers().firstValue("WWW-Authenticate").orElse("");
                    discard(response);
                    String authorization = authenticate(what, challenge, scopes);
                    response = sendOnce(request, Optional.of(authorization));
                }
                if (replayable && isTransientStatus(response.statusCode()) && attempt < MAX_ATTEMPTS) {
                    discard(response);
                    pause(attempt);
                    continue;
                }
                return response;
            } catch (RegistryException e) {
                throw e;
            } catch (IOException e) {
                last = e;
                if (!replayable || attempt == MAX_ATTEMPTS) {
                    break;
                }
                pause(attempt);
            }
        }
        throw new RegistryException(what + " failed: cannot reach " + base + ": " + describe(last), last);
    }

    private HttpResponse<InputStream> sendOnce(HttpRequest.Builder request, Optional<String> authorization)
            throws IOException {
        HttpRequest.Builder copy = request.copy();
        authorization.ifPresent(a -> copy.setHeader("Authorization", a));
        try {
            return http.send(copy.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted talking to " + base);
        }
    }

    private Optional<String> cachedAuthorization(List<String> scopes) {
        Token token = tokens.get(scopeKey(scopes));
        if (token != null && token.expires().isAfter(Instant.now())) {
            return Optional.of(token.header());
        }
        if (basicChallenged && credentials.isPresent()) {
            return Optional.of(credentials.get().basicHeader());
        }
        return Optional.empty();
    }

    private String authenticate(String what, String challengeHeader, List<String> scopes) throws IOException {
        WwwAuthenticate challenge = WwwAuthenticate.parse(challengeHeader).orElseThrow(() -> new RegistryException(
                what + " failed: " + host + " answered 401 without a WWW-Authenticate challenge", 401, List.of(), null));
        return switch (challenge.scheme()) {
            case "basic" -> {
                RegistryCredentials creds = credentials.orElseThrow(() -> new RegistryException(what
                        + " failed: " + host + " requires a user name and password (HTTP Basic) and none is configured"
                        + " for it (docker login " + host + ", or registry credentials in the configuration)",
                        401, List.of("UNAUTHORIZED"), null));
                basicChallenged = true;
                yield creds.basicHeader();
            }
            case "bearer" -> fetchToken(what, challenge, scopes);
            default -> throw new RegistryException(what + " failed: " + host + " asks for unsupported authentication '"
                    + challenge.scheme() + "'", 401, List.of(), null);
        };
    }

    private String fetchToken(String what, WwwAuthenticate challenge, List<String> scopes) throws IOException {
        String realm = challenge.param("realm").orElseThrow(() -> new RegistryException(
                what + " failed: " + host + "'s bearer challenge has no realm", 401, List.of(), null));
        TreeSet<String> allScopes = new TreeSet<>(scopes);
        challenge.param("scope").ifPresent(s -> allScopes.addAll(List.of(s.split(" "))));
        List<String> query = new ArrayList<>();
        challenge.param("service").ifPresent(s -> query.add("service=" + encode(s)));
        allScopes.forEach(s -> query.add("scope=" + encode(s)));
        URI tokenUri = URI.create(realm + (query.isEmpty() ? "" : (realm.contains("?") ? "&" : "?") + String.join("&", query)));
        HttpRequest.Builder request = HttpRequest.newBuilder(tokenUri).timeout(Duration.ofSeconds(30)).GET();
        credentials.ifPresent(c -> request.header("Authorization", c.basicHeader()));
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted fetching a token from " + realm);
        } catch (IOException e) {
            throw new RegistryException(what + " failed: token endpoint " + realm + " unreachable: " + describe(e), e);
        }
        try (InputStream body = response.body()) {
            byte[] bytes = body.readNBytes(1 << 20);
            if (response.statusCode() != 200) {
                throw new RegistryException(what + " failed: token endpoint " + realm + " refused "
                        + (credentials.isPresent() ? "the credentials for " + host : "anonymous access")
                        + " for " + allScopes + ": HTTP " + response.statusCode() + " " + snippet(bytes),
                        response.statusCode(), List.of("UNAUTHORIZED"), null);
            }
            JsonNode json = JSON.readTree(bytes);
            String token = json.hasNonNull("token") ? json.get("token").asText()
                    : json.hasNonNull("access_token") ? json.get("access_token").asText() : null;
            if (token == null || token.isEmpty()) {
                throw new RegistryException(what + " failed: token endpoint " + realm + " returned no token", 0,
                        List.of(), null);
            }
            long lifetime = json.hasNonNull("expires_in") ? json.get("expires_in").asLong()
                    : DEFAULT_TOKEN_LIFETIME.toSeconds();
            String header = "Bearer " + token;
            // Renew a little early so a token does not expire between check and use.
            tokens.put(scopeKey(scopes), new Token(header, Instant.now().plusSeconds(Math.max(1, lifetime - 10))));
            return header;
        }
    }

    private static String scopeKey(List<String> scopes) {
        return String.join(" ", new TreeSet<>(scopes));
    }

    private static boolean isTransientStatus(int status) {
        return status == 429 || status == 502 || status == 503 || status == 504;
    }

    private static void pause(int attempt) throws IOException {
        try {
            Thread.sleep(200L << (attempt - 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while retrying");
        }
    }

    static void discard(HttpResponse<InputStream> response) {
        try (InputStream body = response.body()) {
            body.skip(1 << 16);
        } catch (IOException ignored) {
            // the connection is dropped instead of reused
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String describe(Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    static String snippet(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }
}
