package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.Main;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;

/**
 * picocli's model of {@code stagefarm build} (or {@code bake}) for the local farm's runs, built ahead:
 * picocli builds it by reflection over the commands' annotated fields and mixins, ~10 % of the farm's
 * CPU in a warm build and ~4 ms of its path (bench/README.md, "Session 12 (issue 12): the warm path's
 * margin"). After a run, a spare for its command is built on a thread of its own, between builds; the
 * next run of that command takes it. A spare is never used twice: the commands' objects hold one run's
 * option values, so every run gets a model nothing has parsed or run before (the model is not reset and
 * reused, which would carry a field one run set into the next). A run that finds no spare (the first,
 * or one of several at once) builds its own, as before.
 */
final class SpareCommandLines implements AutoCloseable {
  /** At most one spare per command name: runs at once beyond the first build their own. */
  private final Map<String, AtomicReference<CommandLine>> spares = new ConcurrentHashMap<>();
  private final ExecutorService maker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "stagefarm-run-spares");
    t.setDaemon(true);
    return t;
  });

  /** An unused command line for {@code args}: the spare of its command if there is one, else a new one. */
  CommandLine take(String... args) {
    if (args.length > 0) {
      AtomicReference<CommandLine> spare = spares.get(args[0]);
      CommandLine taken = spare == null ? null : spare.getAndSet(null);
      if (taken != null) {
        return taken;
      }
    }
    return Main.commandLine(null, args);
  }

  /** Builds a spare for {@code command} in the background unless one is there (after a run of it ended). */
  void prepare(String command) {
    AtomicReference<CommandLine> spare = spares.computeIfAbsent(command, c -> new AtomicReference<>());
    if (spare.get() != null) {
      return;
    }
    try {
      maker.execute(() -> {
        if (spare.get() == null) {
          spare.compareAndSet(null, Main.commandLine(null, command));
        }
      });
    } catch (RejectedExecutionException closed) {
      // the farm is stopping: no more runs
    }
  }

  /** The spare waiting for {@code command}, not taken; null when there is none (yet). */
  CommandLine spare(String command) {
    AtomicReference<CommandLine> spare = spares.get(command);
    return spare == null ? null : spare.get();
  }

  @Override
  public void close() {
    maker.shutdownNow();
  }
}
