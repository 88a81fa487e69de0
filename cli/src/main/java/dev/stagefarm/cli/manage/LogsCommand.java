package dev.stagefarm.cli.manage;

import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.PlainProgress;
import dev.stagefarm.cli.farm.FarmConnection;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.proto.v1.BuildProgress;
import dev.stagefarm.proto.v1.BuildStatus;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code stagefarm logs BUILD}: a build's progress and RUN output from its start, in the plain
 * view; for a build still running it follows until the build ends.
 */
@Command(
    name = "logs",
    mixinStandardHelpOptions = true,
    description = "Print a build's progress and RUN output from the start (following it while it runs).")
public final class LogsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "BUILD", description = "The build id (stagefarm ls).")
  String buildId;

  @Mixin FarmConnection connection;

  @Override
  public Integer call() {
    BuildStatus status;
    AtomicInteger details = new AtomicInteger();
    try (RemoteFarm farm = connection.open("stagefarm logs"); PlainProgress view = new PlainProgress(System.out)) {
      status = new BuildClient(farm).watch(buildId, (BuildProgress entry) -> {
        if (!entry.hasBuild()) {
          details.incrementAndGet();
        }
        view.show(entry);
      });
    }
    if (details.get() == 0 && BuildClient.isFinalState(status)) {
      System.out.println("(the farm no longer keeps this build's progress: only its summary is left after the"
          + " coordinator's retention)");
    }
    System.out.println("build " + buildId + " " + status.getState().name().toLowerCase()
        + (status.getError().isEmpty() ? "" : ": " + status.getError()));
    return 0;
  }
}
