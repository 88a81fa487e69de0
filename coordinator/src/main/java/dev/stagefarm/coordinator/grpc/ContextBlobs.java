package dev.stagefarm.coordinator.grpc;

import java.io.IOException;
import java.io.InputStream;

/** The build-context part of the content store, as the BuildService needs it. */
public interface ContextBlobs {
  boolean contains(String digest) throws IOException;

  /** Stores content under its digest, verifying it; content already stored is not re-sent. */
  void put(String digest, long size, InputStream content) throws IOException;
}
