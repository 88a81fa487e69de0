package dev.stagefarm.cli.manage;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.FarmConnection;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.proto.v1.BuildStatus;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code stagefarm cancel BUILD…}: stops builds on the farm (their running RUNs are killed). */
@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = "Cancel builds on the farm; a finished build is left as it is.")
public final class CancelCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "BUILD", description = "Build ids (stagefarm ls).")
  List<String> buildIds;

  @Mixin FarmConnection connection;

  @Override
  public Integer call() {
    int failures = 0;
    try (RemoteFarm farm = connection.open("stagefarm cancel")) {
      BuildClient client = new BuildClient(farm);
      for (String buildId : buildIds) {
        try {
          BuildStatus status = client.cancelBuild(buildId);
          System.out.println(buildId + " " + status.getState().name().toLowerCase());
        } catch (UserError e) {
          System.err.println("error: " + e.getMessage());
          failures++;
        }
      }
    }
    return failures == 0 ? 0 : 1;
  }
}
