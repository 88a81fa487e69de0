package dev.stagefarm.oci.registry;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How to reach registries: which may be spoken to over plain HTTP, which are mirrored where, and whose credentials to
 * use. Registries are named as users write them ({@code docker.io}, {@code 127.0.0.1:5000}).
 *
 * @param insecure registries reached over plain HTTP; every other registry is HTTPS only
 * @param mirrors for a registry, mirror hosts to pull from first, in order (pushes always go to the registry itself)
 * @param credentials explicit credentials per registry; they win over {@code dockerConfig}
 * @param dockerConfig credentials from a Docker config file
 */
public record RegistrySettings(Set<String> insecure, Map<String, List<String>> mirrors,
                               Map<String, RegistryCredentials> credentials, DockerConfigCredentials dockerConfig) {

    public RegistrySettings {
        insecure = Set.copyOf(insecure);
        mirrors = Map.copyOf(mirrors);
        credentials = Map.copyOf(credentials);
        dockerConfig = dockerConfig == null ? DockerConfigCredentials.none() : dockerConfig;
    }

    /** HTTPS everywhere, no mirrors, credentials from {@code ~/.docker/config.json} when present. */
    public static RegistrySettings defaults() {
        return new RegistrySettings(Set.of(), Map.of(), Map.of(), DockerConfigCredentials.fromDefaultLocation());
    }

    /** No mirrors, no credentials, HTTPS everywhere: a starting point for tests and explicit configuration. */
    public static RegistrySettings empty() {
        return new RegistrySettings(Set.of(), Map.of(), Map.of(), DockerConfigCredentials.none());
    }

    /** Also allow plain HTTP to this registry (a host:port). */
    public RegistrySettings withInsecure(String registry) {
        Set<String> copy = new HashSet<>(insecure);
        copy.add(registry);
        return new RegistrySettings(copy, mirrors, credentials, dockerConfig);
    }

    /** Pull images of {@code registry} from these mirror hosts first. */
    public RegistrySettings withMirrors(String registry, List<String> mirrorHosts) {
        Map<String, List<String>> copy = new HashMap<>(mirrors);
        copy.put(registry, List.copyOf(mirrorHosts));
        return new RegistrySettings(insecure, copy, credentials, dockerConfig);
    }

    public RegistrySettings withCredentials(String registry, RegistryCredentials creds) {
        Map<String, RegistryCredentials> copy = new HashMap<>(credentials);
        copy.put(registry, creds);
        return new RegistrySettings(insecure, mirrors, copy, dockerConfig);
    }

    /**
     * The settings of one build whose client sent {@code clientCredentials}: the same insecure registries and mirrors;
     * credentials are the client's, and this process's own (explicit and Docker config) only for the registries the
     * client sent none for, and only when {@code ownAsFallback}. Without it a registry the client has no credentials
     * for is spoken to anonymously (docs/security.md, "Registry credentials").
     */
    public RegistrySettings forClient(Map<String, RegistryCredentials> clientCredentials, boolean ownAsFallback) {
        Map<String, RegistryCredentials> merged = new HashMap<>(ownAsFallback ? credentials : Map.of());
        merged.putAll(clientCredentials);
        return new RegistrySettings(insecure, mirrors, merged, ownAsFallback ? dockerConfig : DockerConfigCredentials.none());
    }

    public boolean isInsecure(String host) {
        return insecure.contains(host);
    }

    public List<String> mirrorsOf(String registry) {
        return mirrors.getOrDefault(registry, List.of());
    }

    /** Credentials for a host: explicit ones first, then the Docker config's. */
    public Optional<RegistryCredentials> credentialsFor(String host) {
        RegistryCredentials explicit = credentials.get(host);
        return explicit != null ? Optional.of(explicit) : dockerConfig.lookup(host);
    }
}
