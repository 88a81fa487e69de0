package dev.stagefarm.cli.build;

import java.util.Map;

/**
 * {@code --build-context} values (bake's {@code contexts}) checked before anything starts, by
 * {@link BuildSession#namedContexts}.
 *
 * @param values by name: {@code docker-image://REF}, a directory's absolute path, or
 *     {@code oci-layout://DIR@sha256:…} (pinned to the root that was checked)
 * @param layouts by name, each OCI layout as it was read and verified: its blobs are uploaded from
 *     this reading, not hashed again
 */
public record NamedContexts(Map<String, String> values, Map<String, OciLayoutContext> layouts) {}
