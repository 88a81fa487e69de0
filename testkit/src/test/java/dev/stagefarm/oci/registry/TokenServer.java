package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A token server for the registry's bearer flow, as Docker Hub's auth.docker.io is one: it checks HTTP Basic
 * credentials and issues RS256 JWTs granting exactly the scopes asked for, signed with a key whose self-signed
 * certificate the registry trusts ({@link #rootCertificate()}), so a real docker-registry verifies real tokens.
 */
final class TokenServer implements AutoCloseable {

    static final String ISSUER = "stagefarm-test-issuer";
    static final String SERVICE = "stagefarm-test-registry";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final HttpServer server;
    private final PrivateKey key;
    private final X509Certificate certificate;
    private final Path rootCertificate;
    private final String user;
    private final String password;
    private final AtomicInteger tokensIssued = new AtomicInteger();
    private final List<String> scopesRequested = java.util.Collections.synchronizedList(new ArrayList<>());

    TokenServer(Path dir, String user, String password) throws Exception {
        this.user = user;
        this.password = password;
        Path keystore = dir.resolve("token.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "token", "-keyalg", "RSA",
                "-keysize", "2048", "-dname", "CN=stagefarm-token", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + out);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, "changeit".toCharArray());
        }
        this.key = (PrivateKey) ks.getKey("token", "changeit".toCharArray());
        this.certificate = (X509Certificate) ks.getCertificate("token");
        this.rootCertificate = dir.resolve("root.pem");
        Files.writeString(rootCertificate, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/token", this::issue);
        server.start();
    }

    String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    Path rootCertificate() {
        return rootCertificate;
    }

    int tokensIssued() {
        return tokensIssued.get();
    }

    List<String> scopesRequested() {
        return List.copyOf(scopesRequested);
    }

    private void issue(HttpExchange exchange) throws IOException {
        try (exchange) {
            String expected = "Basic " + Base64.getEncoder().encodeToString(
                    (user + ":" + password).getBytes(StandardCharsets.UTF_8));
            if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            List<String> scopes = new ArrayList<>();
            String query = exchange.getRequestURI().getRawQuery();
            for (String pair : query == null ? new String[0] : query.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).equals("scope")) {
                    scopes.add(URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            scopesRequested.addAll(scopes);
            byte[] body = JSON.writeValueAsBytes(JSON.createObjectNode()
                    .put("token", jwt(scopes)).put("expires_in", 300));
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            tokensIssued.incrementAndGet();
        } catch (Exception e) {
            throw new IOException("token issue failed", e);
        }
    }

    private String jwt(List<String> scopes) throws Exception {
        ObjectNode header = JSON.createObjectNode().put("typ", "JWT").put("alg", "RS256");
        header.putArray("x5c").add(Base64.getEncoder().encodeToString(certificate.getEncoded()));
        long now = System.currentTimeMillis() / 1000;
        ObjectNode claims = JSON.createObjectNode().put("iss", ISSUER).put("sub", user).put("aud", SERVICE)
                .put("exp", now + 300).put("nbf", now - 30).put("iat", now).put("jti", UUID.randomUUID().toString());
        ArrayNode access = claims.putArray("access");
        for (String scope : scopes) {
            // repository:NAME:ACTIONS, where NAME may itself not contain ':' (no host part in scopes)
            String[] parts = scope.split(":");
            if (parts.length == 3) {
                ObjectNode entry = access.addObject().put("type", parts[0]).put("name", parts[1]);
                ArrayNode actions = entry.putArray("actions");
                for (String action : parts[2].split(",")) {
                    actions.add(action);
                }
            }
        }
        String signingInput = B64URL.encodeToString(JSON.writeValueAsBytes(header)) + "."
                + B64URL.encodeToString(JSON.writeValueAsBytes(claims));
        Signature rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initSign(key);
        rs256.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + B64URL.encodeToString(rs256.sign());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
