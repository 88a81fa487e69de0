package dev.stagefarm.cli.manage;

import dev.stagefarm.cli.DurationConverter;
import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.FarmConnection;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.proto.v1.PruneStoreRequest;
import dev.stagefarm.proto.v1.PruneStoreResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stagefarm prune}: one garbage collection of the content store now (admins). What live
 * builds reach is always kept, and so is unreferenced content younger than the coordinator's
 * {@code --gc-grace} (an upload or a layer being written): the client cannot shorten it.
 */
@Command(
    name = "prune",
    mixinStandardHelpOptions = true,
    description = "Delete old cache records and the content nothing uses any more (admins). Keeps what live builds"
        + " use and content younger than the coordinator's --gc-grace.")
public final class PruneCommand implements Callable<Integer> {
  @Option(names = {"-a", "--all"}, description = "Delete every cache record (the next builds run every stage again).")
  boolean all;

  @Option(names = "--keep-duration", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Delete cache records last written longer ago than this, e.g. 24h (default: the coordinator's"
          + " --gc-keep-duration).")
  Duration keepDuration;

  @Option(names = "--dry-run", description = "Say what would be deleted; delete nothing.")
  boolean dryRun;

  @Mixin FarmConnection connection;

  @Override
  public Integer call() {
    if (all && keepDuration != null) {
      throw new UserError("--all and --keep-duration do not go together (--all is --keep-duration 0s)");
    }
    PruneStoreRequest.Builder request = PruneStoreRequest.newBuilder().setDryRun(dryRun);
    if (all) {
      request.setKeepDurationSeconds(0);
    } else if (keepDuration != null) {
      request.setKeepDurationSeconds(keepDuration.toSeconds());
    }
    PruneStoreResponse report;
    try (RemoteFarm farm = connection.open("stagefarm prune")) {
      report = new BuildClient(farm).pruneStore(request.build());
    }
    System.out.println((report.getDryRun() ? "would delete " : "deleted ") + report.getRecordsDeleted()
        + " cache records and " + report.getObjectsDeleted() + " objects (" + Sizes.of(report.getBytesDeleted())
        + "); kept " + report.getObjectsKept() + " objects");
    return 0;
  }
}
