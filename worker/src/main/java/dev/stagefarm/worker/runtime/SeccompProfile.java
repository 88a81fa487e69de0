package dev.stagefarm.worker.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The seccomp filter of a sandboxed RUN, in the OCI runtime spec's form: an allow-list modelled on
 * Docker's default profile (everything not listed fails with EPERM). It is our own list, kept in
 * {@code seccomp-default.json} beside this class; docs/security.md says what it blocks and why.
 */
public final class SeccompProfile {
  /** The profile as compact JSON, read and serialised once: every sandboxed RUN's config.json embeds it as it is. */
  private static final RawValue DEFAULT_JSON = serialise(load("seccomp-default.json"));

  private SeccompProfile() {}

  /**
   * The default profile as JSON text to embed in a document ({@code ObjectNode.putRawValue}): neither copied nor
   * serialised again per RUN (a JIT-cold worker paid both on every RUN's bundle).
   */
  static RawValue defaultProfileJson() {
    return DEFAULT_JSON;
  }

  private static RawValue serialise(ObjectNode profile) {
    try {
      return new RawValue(new ObjectMapper().writeValueAsString(profile));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise the seccomp profile", e);
    }
  }

  private static ObjectNode load(String resource) {
    try (InputStream in = SeccompProfile.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("seccomp profile " + resource + " is missing from the worker's classpath");
      }
      return (ObjectNode) new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read seccomp profile " + resource, e);
    }
  }
}
