package dev.stagefarm.oci.store;

import dev.stagefarm.oci.Digest;

/**
 * A blob that is in the store, as a put reported it.
 *
 * @param uploaded false when the store already held the blob and nothing was sent
 */
public record StoredBlob(Digest digest, long size, boolean uploaded) {
}
