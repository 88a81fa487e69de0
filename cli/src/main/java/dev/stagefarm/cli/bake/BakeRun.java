package dev.stagefarm.cli.bake;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.BuildSession;
import dev.stagefarm.cli.build.ContextScanner;
import dev.stagefarm.cli.build.LabelledProgress;
import dev.stagefarm.cli.build.PlainProgress;
import dev.stagefarm.cli.build.ProgressView;
import dev.stagefarm.cli.build.TtyProgress;
import dev.stagefarm.cli.build.ScannedContext;
import dev.stagefarm.cli.farm.Farm;
import dev.stagefarm.proto.v1.BuildStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a bake's builds on one farm: every context is scanned and sent once, every target is
 * submitted at the same time (so the farm's single flight builds a stage that several targets
 * share once), progress lines carry their target's name, and each target's outputs are written
 * when it succeeds. Fails naming every target that failed.
 */
public final class BakeRun {
  /** Opens the farm (after everything local was checked). */
  @FunctionalInterface
  public interface FarmOpener {
    Farm open() throws Exception;
  }

  private final List<BakeJob> jobs;
  private final boolean quiet;
  private final PrintStream err;
  private final PrintStream out;
  /** The live view all targets share ({@code --progress tty}), or null: plain lines behind each target's name. */
  private final TtyProgress tty;
  private final dev.stagefarm.cli.RunContext run;

  public BakeRun(List<BakeJob> jobs, boolean quiet, PrintStream err, PrintStream out) {
    this(jobs, quiet, false, err, out);
  }

  /** @param tty one live view of every target's stages ({@code LABEL STAGE} lines) instead of plain lines */
  public BakeRun(List<BakeJob> jobs, boolean quiet, boolean tty, PrintStream err, PrintStream out) {
    this(jobs, quiet, tty, err, out, dev.stagefarm.cli.RunContext.process());
  }

  /** @param run whose Ctrl-C cancels the builds, whose directory relative output paths are in */
  public BakeRun(List<BakeJob> jobs, boolean quiet, boolean tty, PrintStream err, PrintStream out,
      dev.stagefarm.cli.RunContext run) {
    this.run = run;
    this.jobs = List.copyOf(jobs);
    this.quiet = quiet;
    this.err = err;
    this.out = out;
    this.tty = tty && !quiet ? new TtyProgress(err) : null;
  }

  private record Outcome(BakeJob job, BuildStatus status, String failure) {}

  public int run(FarmOpener opener) throws Exception {
    long started = System.currentTimeMillis();
    Map<Path, ScannedContext> contexts = new HashMap<>();
    for (BakeJob job : jobs) {
      Path key = job.context().toAbsolutePath().normalize();
      if (!contexts.containsKey(key)) {
        try {
          contexts.put(key, ContextScanner.scan(job.context()));
        } catch (IOException e) {
          throw new UserError("target \"" + job.name() + "\": reading the context " + job.context() + " failed: "
              + e.getMessage());
        }
      }
    }
    int width = jobs.stream().mapToInt(j -> j.name().length()).max().orElse(0);
    try (Farm farm = opener.open()) {
      BuildSession session = new BuildSession(new BuildClient(farm), run);
      List<String> buildIds = new CopyOnWriteArrayList<>();
      Map<String, Outcome> outcomes = new LinkedHashMap<>();
      session.cancellingOnInterrupt(() -> buildIds, () -> {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
          List<Future<Outcome>> running = new ArrayList<>();
          for (BakeJob job : jobs) {
            ScannedContext context = contexts.get(job.context().toAbsolutePath().normalize());
            String prefix = String.format("%-" + width + "s | ", job.name());
            running.add(pool.submit(() -> build(session, job, context, prefix, buildIds)));
          }
          for (Future<Outcome> future : running) {
            Outcome outcome = join(future);
            outcomes.put(outcome.job().name(), outcome);
          }
        }
        return null;
      });
      if (tty != null) {
        tty.close();
      }
      List<String> failed = new ArrayList<>();
      for (Outcome outcome : outcomes.values()) {
        String name = outcome.job().name();
        if (outcome.failure() != null) {
          failed.add(name);
          err.println("error: target \"" + name + "\": " + outcome.failure());
          continue;
        }
        BakeJob job = outcome.job();
        try {
          List<String> written = session.writeOutputs(outcome.status(), job.outputs(), job.push(), job.tags(), out);
          out.println(name + ": " + BuildSession.summary(outcome.status(), written));
        } catch (UserError e) {
          failed.add(name);
          err.println("error: target \"" + name + "\": " + e.getMessage());
        }
      }
      if (!failed.isEmpty()) {
        throw new UserError("bake: " + failed.size() + " of " + jobs.size() + " targets failed: "
            + String.join(", ", failed));
      }
      out.printf("bake: %d target%s built in %.1fs%n", jobs.size(), jobs.size() == 1 ? "" : "s",
          (System.currentTimeMillis() - started) / 1000.0);
      return 0;
    }
  }

  /** One target: submit, follow (its progress behind its prefix), and its outcome; never throws. */
  private Outcome build(BuildSession session, BakeJob job, ScannedContext context, String prefix, List<String> buildIds) {
    PrintStream lines = PrefixedLines.of(err, prefix);
    try (ProgressView view = quiet ? null
        : tty != null ? new LabelledProgress(tty, job.name()) : new PlainProgress(lines)) {
      session.addNamedContexts(job.request(), job.namedContexts());
      BuildStatus submitted = session.submit(job.request(), context);
      buildIds.add(submitted.getBuildId());
      if (!quiet && tty == null) {
        lines.println("build " + submitted.getBuildId() + " submitted");
      }
      BuildStatus status = session.follow(submitted, entry -> {
        if (view != null) {
          view.show(entry);
        }
      }, view != null);
      dev.stagefarm.cli.build.CacheFlags.printWarnings(status, lines);
      return new Outcome(job, status, BuildSession.failure(status));
    } catch (UserError e) {
      return new Outcome(job, null, e.getMessage());
    } finally {
      lines.close();
    }
  }

  private static Outcome join(Future<Outcome> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("a bake target's build thread failed", e.getCause());
    }
  }
}
