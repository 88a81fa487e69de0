/**
 * The worker's ports to the farm's storage: the content store (layer blobs, context files) and the
 * op cache records, with the domain records they exchange. The S3 implementations are in {@link
 * dev.stagefarm.worker.s3}; tests use in-memory ones.
 */
package dev.stagefarm.worker.store;
