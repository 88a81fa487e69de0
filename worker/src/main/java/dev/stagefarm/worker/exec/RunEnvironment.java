package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.runtime.OciBundle;
import dev.stagefarm.worker.runtime.Runc;
import java.nio.file.Path;

/**
 * What every RUN on this worker shares.
 *
 * @param runc the runtime, with the worker's own state root
 * @param bundles writes config.json
 * @param cacheMounts where {@code --mount=type=cache} directories live, by id
 * @param networks which network a RUN gets (default, none, host) and how it is prepared
 * @param allowInsecure whether {@code RUN --security=insecure} may run (with every capability)
 */
record RunEnvironment(Runc runc, OciBundle bundles, Path cacheMounts, RunNetworks networks,
    boolean allowInsecure) {}
