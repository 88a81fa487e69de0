package dev.stagefarm.coordinator.grpc;

import io.grpc.HandlerRegistry;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;

/**
 * The one service a coordinator's server answers with, switched whole while it runs: the standby
 * service, or the active BuildService of the current term. A call is bound to the service current
 * when it arrives; calls already running finish on theirs.
 */
public final class SwitchableService extends HandlerRegistry {
  private volatile ServerServiceDefinition current;

  public SwitchableService(ServerServiceDefinition initial) {
    this.current = initial;
  }

  public void switchTo(ServerServiceDefinition service) {
    this.current = service;
  }

  @Override
  public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
    return current.getMethod(methodName);
  }
}
