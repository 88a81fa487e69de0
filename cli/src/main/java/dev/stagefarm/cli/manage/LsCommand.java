package dev.stagefarm.cli.manage;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.FarmConnection;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.proto.v1.BuildStatus;
import dev.stagefarm.proto.v1.ListBuildsResponse;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stagefarm ls}: the builds the caller may see (an admin: all), oldest first. */
@Command(
    name = "ls",
    mixinStandardHelpOptions = true,
    description = "List the farm's builds (yours; an admin sees all): id, state, target and tags, times.")
public final class LsCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final int PAGE = 500;

  @Option(names = {"-q", "--quiet"}, description = "Print build ids only.")
  boolean quiet;

  @Option(names = "--last", paramLabel = "N", description = "Only the N most recent builds.")
  int last;

  @Mixin FarmConnection connection;

  @Override
  public Integer call() {
    if (last < 0) {
      throw new UserError("--last must not be negative, got " + last);
    }
    List<BuildStatus> builds = new ArrayList<>();
    try (RemoteFarm farm = connection.open("stagefarm ls")) {
      BuildClient client = new BuildClient(farm);
      String token = "";
      do {
        ListBuildsResponse page = client.listBuilds(PAGE, token);
        builds.addAll(page.getBuildsList());
        token = page.getNextPageToken();
      } while (!token.isEmpty());
    }
    if (last > 0 && builds.size() > last) {
      builds = builds.subList(builds.size() - last, builds.size());
    }
    print(builds, System.out, System.currentTimeMillis());
    return 0;
  }

  void print(List<BuildStatus> builds, PrintStream out, long now) {
    if (quiet) {
      builds.forEach(b -> out.println(b.getBuildId()));
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"BUILD ID", "STATE", "TENANT", "TARGET", "TAGS", "CREATED", "QUEUE", "DURATION"});
    for (BuildStatus build : builds) {
      rows.add(new String[] {
        build.getBuildId(),
        build.getState().name(),
        build.getTenant().isEmpty() ? "-" : build.getTenant() + (build.getPriority() == 0 ? "" : " (" + build.getPriority() + ")"),
        build.getTarget().isEmpty() ? "(last stage)" : build.getTarget(),
        build.getTagsCount() == 0 ? "-" : String.join(",", build.getTagsList()),
        TIME.format(Instant.ofEpochMilli(build.getCreatedMs())),
        queue(build, now),
        duration(build, now),
      });
    }
    Table.print(rows, out);
  }

  /**
   * Where the build waits in the coordinator's fair queue: "3 held, #5, 12.0s" (its held stages,
   * its first one's position among its tenant's queued stages, counting from 1, and how long it
   * has waited); "-" when none of its stages waits for a worker slot.
   */
  static String queue(BuildStatus build, long now) {
    if (build.getHeldStages() == 0) {
      return "-";
    }
    return build.getHeldStages() + " held, #" + (build.getQueuePosition() + 1L) + ", "
        + seconds(now - build.getQueuedSinceMs());
  }

  private static String duration(BuildStatus build, long now) {
    if (build.getFinishedMs() > 0) {
      return seconds(build.getFinishedMs() - build.getCreatedMs());
    }
    return seconds(now - build.getCreatedMs()) + " so far";
  }

  private static String seconds(long millis) {
    return String.format(Locale.ROOT, "%.1fs", Math.max(0, millis) / 1000.0);
  }
}
