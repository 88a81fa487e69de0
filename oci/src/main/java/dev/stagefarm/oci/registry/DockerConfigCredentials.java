package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Registry credentials from a Docker client config ({@code ~/.docker/config.json}, or {@code $DOCKER_CONFIG/config.json}):
 * the {@code auths} section, as {@code docker login} writes it ({@code auth} = base64 of {@code user:password}, or
 * {@code username}/{@code password}, or an {@code identitytoken}), and credential helpers as Docker runs them
 * ({@code docker-credential-<name> get}): a registry's {@code credHelpers} entry first, then an {@code auths}
 * entry that holds credentials, then {@code credsStore} (an empty {@code auths} entry, as {@code docker login}
 * writes beside a store, defers to it; a {@code credsStore} helper that is not installed means anonymous). A helper's user name {@code <token>} marks an identity token, as in Docker.
 * A helper's answer is kept for the life of this object.
 */
public final class DockerConfigCredentials {

    private static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";

    private final Map<String, RegistryCredentials> byRegistry;
    private final Map<String, CredentialHelper> helpers;
    private final CredentialHelper store;
    private final Map<String, Optional<RegistryCredentials>> fromHelpers = new java.util.concurrent.ConcurrentHashMap<>();

    private DockerConfigCredentials(Map<String, RegistryCredentials> byRegistry, Map<String, CredentialHelper> helpers,
            CredentialHelper store) {
        this.byRegistry = Map.copyOf(byRegistry);
        this.helpers = Map.copyOf(helpers);
        this.store = store;
    }

    /** No credentials at all: every registry is accessed anonymously. */
    public static DockerConfigCredentials none() {
        return new DockerConfigCredentials(Map.of(), Map.of(), null);
    }

    /**
     * Whether every {@link #lookup} answers empty: no {@code auths} credentials, no {@code credHelpers}, and no
     * {@code credsStore} whose helper is installed (a client then need not work out which registries a build names).
     */
    public boolean isEmpty() {
        return byRegistry.isEmpty() && helpers.isEmpty() && (store == null || !store.installed());
    }

    /** Reads the user's Docker config when there is one; no file means no credentials. */
    public static DockerConfigCredentials fromDefaultLocation() {
        String dockerConfig = System.getenv("DOCKER_CONFIG");
        Path dir = dockerConfig != null && !dockerConfig.isBlank()
                ? Path.of(dockerConfig) : Path.of(System.getProperty("user.home"), ".docker");
        Path file = dir.resolve("config.json");
        return Files.isRegularFile(file) ? read(file) : none();
    }

    /** Reads a Docker config file; an unreadable or malformed file is an error naming it. */
    public static DockerConfigCredentials read(Path file) {
        return read(file, CredentialHelper.systemPath());
    }

    /** As {@link #read(Path)}, finding credential helpers in {@code helperPath} (instead of {@code $PATH}). */
    public static DockerConfigCredentials read(Path file, List<Path> helperPath) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Docker credentials from " + file + ": " + e.getMessage(), e);
        }
        Map<String, RegistryCredentials> credentials = new HashMap<>();
        JsonNode auths = root == null ? null : root.get("auths");
        if (auths != null && auths.isObject()) {
            for (var entry : auths.properties()) {
                entryCredentials(entry.getValue(), file, entry.getKey())
                        .ifPresent(c -> credentials.put(normalise(entry.getKey()), c));
            }
        }
        Map<String, CredentialHelper> helpers = new HashMap<>();
        JsonNode credHelpers = root == null ? null : root.get("credHelpers");
        if (credHelpers != null && credHelpers.isObject()) {
            for (var entry : credHelpers.properties()) {
                helpers.put(normalise(entry.getKey()), helper(entry.getValue(), file, helperPath));
            }
        }
        JsonNode credsStore = root == null ? null : root.get("credsStore");
        CredentialHelper store = credsStore == null || credsStore.asText().isBlank()
                ? null : helper(credsStore, file, helperPath);
        return new DockerConfigCredentials(credentials, helpers, store);
    }

    private static CredentialHelper helper(JsonNode name, Path file, List<Path> helperPath) {
        try {
            return new CredentialHelper(name.asText(), helperPath);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " in " + file, e);
        }
    }

    private static Optional<RegistryCredentials> entryCredentials(JsonNode entry, Path file, String key) {
        String auth = text(entry, "auth");
        if (auth != null && !auth.isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid base64 'auth' for " + key + " in " + file, e);
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("'auth' for " + key + " in " + file + " is not user:password");
            }
            return Optional.of(new RegistryCredentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
        }
        String user = text(entry, "username");
        String password = text(entry, "password");
        if (user != null && password != null) {
            return Optional.of(new RegistryCredentials(user, password));
        }
        String identityToken = text(entry, "identitytoken");
        if (identityToken != null) {
            // Docker sends an identity token as the password of the token request, with this fixed user name.
            return Optional.of(new RegistryCredentials("<token>", identityToken));
        }
        return Optional.empty();
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        return value != null && value.isTextual() ? value.asText() : null;
    }

    /** Keys are written as URLs or bare hosts; Docker Hub has several names. */
    private static String normalise(String key) {
        String host = key;
        if (host.startsWith("https://") || host.startsWith("http://")) {
            host = host.substring(host.indexOf("://") + 3);
        }
        int slash = host.indexOf('/');
        if (slash >= 0) {
            host = host.substring(0, slash);
        }
        return List.of("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com").contains(host)
                || key.equals(DOCKER_HUB_KEY) ? ImageReference.DOCKER_HUB : host;
    }

    /** The credentials for a registry (by the name users write, e.g. {@code docker.io} or {@code host:5000}). */
    public Optional<RegistryCredentials> lookup(String registry) {
        String host = normalise(registry);
        CredentialHelper helper = helpers.get(host);
        if (helper == null && !byRegistry.containsKey(host) && store != null && store.installed()) {
            // a credsStore whose helper is not installed here (a config.json copied from a desktop) means
            // anonymous, as before helpers were run; a registry's own credHelpers entry must work
            helper = store;
        }
        if (helper != null) {
            CredentialHelper chosen = helper;
            // Docker asks helpers for Docker Hub by its v1 URL, for any other registry by its host
            String server = host.equals(ImageReference.DOCKER_HUB) ? DOCKER_HUB_KEY : host;
            return fromHelpers.computeIfAbsent(host, h -> chosen.get(server));
        }
        return Optional.ofNullable(byRegistry.get(host));
    }
}
