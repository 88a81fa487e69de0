package dev.stagefarm.oci.store;

import java.time.Instant;

/** An object as listed in the bucket: its full key, size in bytes and when it was last written. */
public record StoredObject(String key, long size, Instant lastModified) {
    public StoredObject(String key, long size) {
        this(key, size, Instant.EPOCH);
    }
}
