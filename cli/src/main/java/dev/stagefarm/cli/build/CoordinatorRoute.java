package dev.stagefarm.cli.build;

import io.grpc.Channel;
import io.grpc.StatusRuntimeException;

/**
 * Where a client's calls go: one coordinator, or the active one of several (a standby answers
 * UNAVAILABLE naming the leader, and {@link #failover} moves there).
 */
public interface CoordinatorRoute {
  Channel channel();

  /** For messages: where the coordinator is. */
  String endpoint();

  /**
   * Called after a call failed with UNAVAILABLE: move to the leader a standby named, or to the
   * next coordinator. Returns false when there is nowhere else to go (retry the same one).
   */
  default boolean failover(StatusRuntimeException unavailable) {
    return false;
  }

  /**
   * Whether what the client sends cannot be read on the way: TLS, or a coordinator on loopback or
   * in this process. Build secrets and registry credentials go only over such a route.
   */
  default boolean confidential() {
    return true;
  }

  /**
   * The coordinator writing image archives into files itself, when it runs in this process (the
   * one-shot's embedded farm); empty for one elsewhere (a local farm may run as another user: the
   * client writes its files, from {@link BuildClient#export}'s chunks).
   */
  default java.util.Optional<LocalImageFiles> localImageFiles() {
    return java.util.Optional.empty();
  }

  /** A route to one coordinator over a channel the caller owns. */
  static CoordinatorRoute fixed(Channel channel, String endpoint) {
    return new CoordinatorRoute() {
      @Override
      public Channel channel() {
        return channel;
      }

      @Override
      public String endpoint() {
        return endpoint;
      }
    };
  }
}
