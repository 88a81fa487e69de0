package dev.stagefarm.oci.image;

import java.time.Instant;
import java.util.Optional;

/**
 * One step of an image's history. {@code emptyLayer} steps (ENV, CMD, …) changed only the config; the others line up
 * one to one with {@code rootfs.diff_ids}.
 */
public record HistoryEntry(Optional<Instant> created, String createdBy, String author, String comment,
                           boolean emptyLayer) {

    public HistoryEntry {
        created = created == null ? Optional.empty() : created;
        createdBy = createdBy == null ? "" : createdBy;
        author = author == null ? "" : author;
        comment = comment == null ? "" : comment;
    }

    public static HistoryEntry of(Instant created, String createdBy, boolean emptyLayer) {
        return new HistoryEntry(Optional.ofNullable(created), createdBy, "", "", emptyLayer);
    }
}
