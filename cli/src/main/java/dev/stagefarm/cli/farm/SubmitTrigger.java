package dev.stagefarm.cli.farm;

import dev.stagefarm.proto.v1.BuildServiceGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Tells {@code onSubmit} when a call to submit a build arrives, before the coordinator plans it: the one-shot farm
 * starts its workers then, so that they start while the build is planned (bench/README.md, "Session 11").
 */
final class SubmitTrigger implements ServerInterceptor {
  private static final String SUBMIT = BuildServiceGrpc.getSubmitBuildMethod().getFullMethodName();

  private final Runnable onSubmit;

  SubmitTrigger(Runnable onSubmit) {
    this.onSubmit = onSubmit;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (call.getMethodDescriptor().getFullMethodName().equals(SUBMIT)) {
      onSubmit.run();
    }
    return next.startCall(call, headers);
  }
}
