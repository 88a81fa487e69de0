package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Which {@link SandboxPool} a worker's RUNs take their sandbox networks from: one value, so a worker names exactly
 * one kind (session 10's two flags could name a shared pool made on demand, which no pool is).
 */
public sealed interface RunNetworkPool {
  /** The worker's own pool in its work dir: its slots and a spare, made at its start (a worker of its own process). */
  static RunNetworkPool ownAtStart() {
    return new OwnAtStart();
  }

  /**
   * The worker's own pool in its work dir, made once a stage with RUNs is about to start ({@link
   * SandboxPool#prepare}): for a worker started for one build that may never run a RUN (the one-shot farm's).
   */
  static RunNetworkPool ownOnDemand() {
    return new OwnOnDemand();
  }

  /**
   * The pool in {@code dir} shared with the other workers of this process naming the same directory (the local
   * farm's and {@code stagefarm up}'s): a burst's worth and a spare, made at the first worker's start ({@link
   * SandboxPool#shared}). Put {@code dir} beside the workers' work dirs, not in one.
   */
  static RunNetworkPool sharedIn(Path dir) {
    return new Shared(dir);
  }

  /**
   * Opens (or joins) the pool for a worker of {@code slots} slots whose own pool would be bound in {@code ownDir}.
   */
  SandboxPool open(SandboxNetwork network, Path ownDir, int slots) throws IOException;

  /** See {@link #ownAtStart()}. */
  record OwnAtStart() implements RunNetworkPool {
    @Override
    public SandboxPool open(SandboxNetwork network, Path ownDir, int slots) throws IOException {
      // one per slot and a spare, so a stage's single RUN leaves its replacement to after its report
      return new SandboxPool(network, ownDir, slots + 1, false).start();
    }
  }

  /** See {@link #ownOnDemand()}. */
  record OwnOnDemand() implements RunNetworkPool {
    @Override
    public SandboxPool open(SandboxNetwork network, Path ownDir, int slots) throws IOException {
      return new SandboxPool(network, ownDir, slots + 1, true).start();
    }
  }

  /** See {@link #sharedIn(Path)}. */
  record Shared(Path dir) implements RunNetworkPool {
    public Shared {
      Objects.requireNonNull(dir, "dir");
    }

    @Override
    public SandboxPool open(SandboxNetwork network, Path ownDir, int slots) throws IOException {
      return SandboxPool.shared(network, dir, slots);
    }
  }
}
