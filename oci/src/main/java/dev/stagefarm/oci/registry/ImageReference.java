package dev.stagefarm.oci.registry;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.InvalidDigestException;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A parsed image reference, normalised the way Docker does: {@code busybox} is {@code docker.io/library/busybox:latest},
 * {@code host:5000/team/app@sha256:…} names a registry by its host. A reference with neither tag nor digest gets tag
 * {@code latest}; with both, the digest decides what is pulled.
 *
 * @param registry the registry's name as users write it ({@code docker.io}, {@code 127.0.0.1:5000}); see
 *     {@link #apiHost()} for where its API lives
 * @param repository the repository path, e.g. {@code library/busybox}
 * @param tag the tag, or null
 * @param digest the manifest digest, or null
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {

    public static final String DOCKER_HUB = "docker.io";
    public static final String DOCKER_HUB_API_HOST = "registry-1.docker.io";
    public static final String DEFAULT_TAG = "latest";

    private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]+(?::[0-9]+)?|\\[[0-9A-Fa-f:]+\\](?::[0-9]+)?");

    public ImageReference {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(repository, "repository");
        if (tag == null && digest == null) {
            throw new IllegalArgumentException("an image reference needs a tag or a digest: " + registry + "/" + repository);
        }
    }

    /**
     * Parses a reference.
     *
     * @throws InvalidReferenceException naming the input and what is wrong with it
     */
    public static ImageReference parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidReferenceException(text, "empty");
        }
        String rest = text.trim();
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Digest.parse(rest.substring(at + 1));
            } catch (InvalidDigestException e) {
                throw new InvalidReferenceException(text, e.getMessage());
            }
            rest = rest.substring(0, at);
        }
        String tag = null;
        int lastSlash = rest.lastIndexOf('/');
        int lastColon = rest.lastIndexOf(':');
        if (lastColon > lastSlash) {
            tag = rest.substring(lastColon + 1);
            rest = rest.substring(0, lastColon);
            if (!TAG.matcher(tag).matches()) {
                throw new InvalidReferenceException(text, "invalid tag '" + tag + "'");
            }
        }
        String registry = DOCKER_HUB;
        String repository = rest;
        int firstSlash = rest.indexOf('/');
        if (firstSlash > 0) {
            String head = rest.substring(0, firstSlash);
            if (head.contains(".") || head.contains(":") || head.equals("localhost") || !head.equals(head.toLowerCase(Locale.ROOT))) {
                if (!HOST.matcher(head).matches()) {
                    throw new InvalidReferenceException(text, "invalid registry host '" + head + "'");
                }
                registry = head;
                repository = rest.substring(firstSlash + 1);
            }
        }
        if (registry.equals("index.docker.io") || registry.equals(DOCKER_HUB_API_HOST)) {
            registry = DOCKER_HUB;
        }
        if (repository.isEmpty()) {
            throw new InvalidReferenceException(text, "no repository name");
        }
        for (String component : repository.split("/", -1)) {
            if (!PATH_COMPONENT.matcher(component).matches()) {
                throw new InvalidReferenceException(text, "invalid repository path component '" + component
                        + "' (lowercase letters, digits and single separators . _ __ -)");
            }
        }
        if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
            repository = "library/" + repository;
        }
        if (tag == null && digest == null) {
            tag = DEFAULT_TAG;
        }
        return new ImageReference(registry, repository, tag, digest);
    }

    /** The host (and port) where the registry's HTTP API lives: Docker Hub's API is not at docker.io. */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API_HOST : registry;
    }

    /** What goes after {@code /manifests/} in the API: the digest when there is one, else the tag. */
    public String manifestReference() {
        return digest != null ? digest.toString() : tag;
    }

    public Optional<Digest> digestIfAny() {
        return Optional.ofNullable(digest);
    }

    /** The same repository pinned to a manifest digest (the tag is kept for display). */
    public ImageReference withDigest(Digest newDigest) {
        return new ImageReference(registry, repository, tag, newDigest);
    }

    /** The same repository at a tag, with no digest. */
    public ImageReference withTag(String newTag) {
        return new ImageReference(registry, repository, newTag, null);
    }

    /** {@code registry/repository}, without tag or digest. */
    public String name() {
        return registry + "/" + repository;
    }

    /** The canonical form, e.g. {@code docker.io/library/busybox:latest} or {@code …@sha256:…}. */
    @Override
    public String toString() {
        return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
