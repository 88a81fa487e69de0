package dev.stagefarm.worker.exec;

import dev.stagefarm.program.Action;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.ContainerSpec;
import dev.stagefarm.worker.runtime.SandboxNetwork;
import dev.stagefarm.worker.runtime.SandboxPool;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Which network a RUN gets on this worker: {@code --network=default} gets the worker's default
 * (the sandbox network unless configured otherwise), {@code none} loopback only, {@code host} the
 * worker host's namespace, and only when the worker allows it (BuildKit's {@code network.host}
 * entitlement).
 *
 * @param defaultMode the network of {@code --network=default}
 * @param allowHost whether {@code --network=host} may run
 * @param hostResolvConf the worker host's resolv.conf, for RUNs on the host network
 * @param sandbox sandbox namespaces, made ahead of the RUNs that take them
 */
record RunNetworks(Mode defaultMode, boolean allowHost, String hostResolvConf, SandboxPool sandbox)
    implements AutoCloseable {

  enum Mode { SANDBOX, NONE, HOST }

  /** The mode of a RUN's {@code --network}. */
  Mode modeFor(Action.Network requested) throws UserError {
    return switch (requested) {
      case DEFAULT -> defaultMode;
      case NONE -> Mode.NONE;
      case HOST -> {
        if (!allowHost) {
          // running it in the sandbox instead would hide from the author that it did not get the host
          throw new UserError("network.host is not allowed: RUN --network=host needs the worker setting"
              + " allow-host-network (BuildKit's network.host entitlement)");
        }
        yield Mode.HOST;
      }
    };
  }

  /** The network of one RUN, its own. Close it after the container. */
  Attached attach(Mode mode) throws IOException, InterruptedException {
    return switch (mode) {
      case HOST -> new Attached(ContainerSpec.Network.HOST, hostResolvConf, null, null);
      case NONE -> new Attached(ContainerSpec.Network.NONE, "", null, null);
      case SANDBOX -> {
        SandboxNetwork.Namespace ns = sandbox.take();
        yield new Attached(new ContainerSpec.Network.Joined(ns.path()), SandboxNetwork.RESOLV_CONF, ns, sandbox);
      }
    };
  }

  /**
   * A stage is about to run {@code program}: an on-demand pool starts keeping ready as many namespaces as its RUNs
   * that get the sandbox (up to the pool's size), while the stage's base is materialised. Close what it returns when
   * the stage has ended.
   */
  Prepared prepareFor(dev.stagefarm.program.StageProgram program) {
    if (defaultMode != Mode.SANDBOX) {
      return new Prepared(null);
    }
    int sandboxed = (int) program.ops().stream().filter(op -> op.action()
        .filter(a -> a instanceof Action.Exec exec && exec.network() == Action.Network.DEFAULT).isPresent()).count();
    if (sandboxed == 0) {
      return new Prepared(null);
    }
    sandbox.prepare(sandboxed);
    return new Prepared(sandbox);
  }

  /** A stage's announced RUNs ({@link #prepareFor}); closed when the stage has ended. */
  record Prepared(SandboxPool pool) implements AutoCloseable {
    @Override
    public void close() {
      if (pool != null) {
        pool.stageEnded();
      }
    }
  }

  /** Tears down the sandbox namespaces kept ready (worker stop). */
  @Override
  public void close() {
    sandbox.close();
  }

  /** A RUN's network, ready for its container. */
  record Attached(ContainerSpec.Network network, String resolvConf, SandboxNetwork.Namespace namespace,
      SandboxPool pool) implements AutoCloseable {
    /** The namespace is torn down in the background: no other RUN ever gets it. */
    @Override
    public void close() {
      if (namespace != null) {
        pool.release(namespace);
      }
    }
  }
}
