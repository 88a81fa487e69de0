package dev.stagefarm.cli.farm;

import dev.stagefarm.worker.config.WorkerConfig;

/** Starts one worker of the embedded farm. */
@FunctionalInterface
public interface WorkerLauncher {
  AutoCloseable start(WorkerConfig config) throws Exception;
}
