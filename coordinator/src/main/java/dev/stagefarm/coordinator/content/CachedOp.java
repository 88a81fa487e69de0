package dev.stagefarm.coordinator.content;

import java.util.Optional;

/**
 * What the cache remembers of an op that ran: the layer it made, or none when it changed no
 * file. Its config and history follow from the program ({@code ConfigFold}), not from the record.
 */
public record CachedOp(Optional<LayerRef> layer) {}
