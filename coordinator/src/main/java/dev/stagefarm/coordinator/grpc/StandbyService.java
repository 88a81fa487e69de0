package dev.stagefarm.coordinator.grpc;

import dev.stagefarm.proto.v1.BuildServiceGrpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The BuildService of a standby coordinator: every call ends with {@code UNAVAILABLE}, naming the
 * active coordinator's address in the description and in the {@link #LEADER_ADDRESS} trailer, so
 * a client moves there (the CLI does) and retries.
 */
public final class StandbyService {
  /** Trailer with the active coordinator's {@code HOST:PORT}, when a standby knows it. */
  public static final Metadata.Key<String> LEADER_ADDRESS =
      Metadata.Key.of("stagefarm-leader", Metadata.ASCII_STRING_MARSHALLER);

  private StandbyService() {}

  /** @param leader the active coordinator's address as announced, if known */
  public static ServerServiceDefinition definition(Supplier<Optional<String>> leader) {
    ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(BuildServiceGrpc.getServiceDescriptor());
    for (MethodDescriptor<?, ?> method : BuildServiceGrpc.getServiceDescriptor().getMethods()) {
      addRefusal(service, method, leader);
    }
    return service.build();
  }

  private static <Q, R> void addRefusal(
      ServerServiceDefinition.Builder service, MethodDescriptor<Q, R> method, Supplier<Optional<String>> leader) {
    service.addMethod(method, (call, headers) -> {
      Optional<String> at = leader.get();
      Metadata trailers = new Metadata();
      at.ifPresent(address -> trailers.put(LEADER_ADDRESS, address));
      call.close(Status.UNAVAILABLE.withDescription(
          "this coordinator is a standby; " + at.map(a -> "the active coordinator is at " + a)
              .orElse("no active coordinator is known yet (a take-over is under way)")), trailers);
      return new ServerCall.Listener<>() {};
    });
  }
}
