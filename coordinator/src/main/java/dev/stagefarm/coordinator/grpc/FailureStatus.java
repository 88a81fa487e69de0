package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.oci.BlobNotFoundException;
import dev.stagefarm.oci.DigestMismatchException;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.util.concurrent.ExecutionException;

/**
 * The service's one classification of failures into status codes, so a client can decide by code:
 * what it sent was wrong ({@code INVALID_ARGUMENT}, do not retry), something asked for is not
 * there ({@code NOT_FOUND}), the content store could not be reached or failed ({@code
 * UNAVAILABLE}, retry later), or a fault of the coordinator itself ({@code INTERNAL}). Never
 * {@code UNKNOWN}.
 */
final class FailureStatus {
  private FailureStatus() {}

  /** A request that breaks the protocol: chunks out of order, a blob left unfinished. */
  static final class MalformedRequest extends Exception {
    MalformedRequest(String message) {
      super(message);
    }
  }

  /** A request over one of the service's limits; the message names the limit and its value. */
  static final class LimitExceeded extends IllegalArgumentException {
    LimitExceeded(String message) {
      super(message);
    }
  }

  /**
   * @param action what failed, e.g. {@code uploading sha256:…}; the description reads "{action}
   *     failed: {cause}"
   */
  static StatusException of(String action, Throwable failure) {
    Throwable cause = failure instanceof ExecutionException && failure.getCause() != null ? failure.getCause() : failure;
    return code(cause).withDescription(action + " failed: " + message(cause)).withCause(cause).asException();
  }

  static Status code(Throwable cause) {
    return switch (cause) {
      // content that does not match its digest or size, a malformed digest
      case DigestMismatchException e -> Status.INVALID_ARGUMENT;
      case IllegalArgumentException e -> Status.INVALID_ARGUMENT;
      case MalformedRequest e -> Status.INVALID_ARGUMENT;
      case BlobNotFoundException e -> Status.NOT_FOUND;
      // the build's record could not be made durable: nothing runs, try again later
      case dev.stagefarm.coordinator.BuildCoordinator.BuildNotAccepted e -> Status.UNAVAILABLE;
      // the store unreachable, refusing, timing out (after its own retries), a full spool disk
      case IOException e -> Status.UNAVAILABLE;
      default -> Status.INTERNAL;
    };
  }

  private static String message(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
