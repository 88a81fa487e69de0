package dev.stagefarm.oci.store;

/** An object as listed in the bucket: its full key and size in bytes. */
public record StoredObject(String key, long size) {
}
