package dev.stagefarm.cli.farm;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts a farm's API calls, so the local farm is not idle while a client uploads its context or
 * watches a build (a stream open for as long as the build runs).
 */
public final class CallActivity implements ServerInterceptor {
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong lastMs = new AtomicLong(System.currentTimeMillis());

  /** Calls not yet complete or cancelled. */
  public int inFlight() {
    return inFlight.get();
  }

  /** When a call last started or ended (epoch ms). */
  public long lastMs() {
    return lastMs.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    inFlight.incrementAndGet();
    lastMs.set(System.currentTimeMillis());
    AtomicBoolean ended = new AtomicBoolean();
    Runnable end = () -> {
      if (ended.compareAndSet(false, true)) {
        inFlight.decrementAndGet();
        lastMs.set(System.currentTimeMillis());
      }
    };
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException e) {
      end.run();
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          end.run();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          end.run();
        }
      }
    };
  }
}
