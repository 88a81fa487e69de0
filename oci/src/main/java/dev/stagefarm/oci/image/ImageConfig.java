package dev.stagefarm.oci.image;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * An image config: platform, runtime config, the layers' diff_ids and the history. Immutable; withers return
 * updated copies so a builder can apply instructions one at a time.
 */
public record ImageConfig(Platform platform, Optional<Instant> created, String author, ContainerConfig config,
                          List<Digest> diffIds, List<HistoryEntry> history) {

    public ImageConfig {
        Objects.requireNonNull(platform, "platform");
        created = created == null ? Optional.empty() : created;
        author = author == null ? "" : author;
        config = config == null ? ContainerConfig.EMPTY : config;
        diffIds = List.copyOf(diffIds);
        history = List.copyOf(history);
    }

    /** An empty image (like {@code FROM scratch}) for a platform. */
    public static ImageConfig scratch(Platform platform) {
        return new ImageConfig(platform, Optional.empty(), "", ContainerConfig.EMPTY, List.of(), List.of());
    }

    public ImageConfig withConfig(ContainerConfig newConfig) {
        return new ImageConfig(platform, created, author, newConfig, diffIds, history);
    }

    /** Applies one change to the runtime config, e.g. {@code image.updateConfig(c -> c.withUser("app"))}. */
    public ImageConfig updateConfig(UnaryOperator<ContainerConfig> change) {
        return withConfig(change.apply(config));
    }

    public ImageConfig withCreated(Instant newCreated) {
        return new ImageConfig(platform, Optional.ofNullable(newCreated), author, config, diffIds, history);
    }

    public ImageConfig withAuthor(String newAuthor) {
        return new ImageConfig(platform, created, newAuthor, config, diffIds, history);
    }

    public ImageConfig withPlatform(Platform newPlatform) {
        return new ImageConfig(newPlatform, created, author, config, diffIds, history);
    }

    /** Appends a layer and its (non-empty) history entry. */
    public ImageConfig withLayer(Digest diffId, HistoryEntry entry) {
        if (entry.emptyLayer()) {
            throw new IllegalArgumentException("a history entry for a layer cannot be empty_layer");
        }
        List<Digest> ids = new ArrayList<>(diffIds);
        ids.add(diffId);
        List<HistoryEntry> h = new ArrayList<>(history);
        h.add(entry);
        return new ImageConfig(platform, created, author, config, ids, h);
    }

    /** Appends a history entry; config-only steps pass an {@code emptyLayer} entry. */
    public ImageConfig withHistory(HistoryEntry entry) {
        List<HistoryEntry> h = new ArrayList<>(history);
        h.add(entry);
        return new ImageConfig(platform, created, author, config, diffIds, h);
    }
}
