package dev.stagefarm.worker.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The seccomp filter of a sandboxed RUN, in the OCI runtime spec's form: an allow-list modelled on
 * Docker's default profile (everything not listed fails with EPERM). It is our own list, kept in
 * {@code seccomp-default.json} beside this class; docs/security.md says what it blocks and why.
 */
public final class SeccompProfile {
  private static final ObjectNode DEFAULT = load("seccomp-default.json");

  private SeccompProfile() {}

  /** A fresh copy of the default profile (callers may embed it in a larger document). */
  public static ObjectNode defaultProfile() {
    return DEFAULT.deepCopy();
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
