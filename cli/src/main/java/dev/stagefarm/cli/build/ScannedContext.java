package dev.stagefarm.cli.build;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.v1.ContextManifest;
import java.nio.file.Path;
import java.util.Map;

/**
 * A build context as the client sends it.
 *
 * @param manifest the entries, sorted by path
 * @param manifestBytes the serialized manifest (what its digest is over)
 * @param manifestDigest {@code sha256:<hex>} of {@code manifestBytes}
 * @param files content digest → a file with that content
 */
public record ScannedContext(
    ContextManifest manifest, byte[] manifestBytes, Digest manifestDigest, Map<String, Path> files) {}
