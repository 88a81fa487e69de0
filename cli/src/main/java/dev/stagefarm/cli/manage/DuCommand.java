package dev.stagefarm.cli.manage;

import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.farm.FarmConnection;
import dev.stagefarm.cli.farm.RemoteFarm;
import dev.stagefarm.proto.v1.StoreArea;
import dev.stagefarm.proto.v1.StoreUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code stagefarm du}: what the farm's content store holds, and what a prune would reclaim. */
@Command(
    name = "du",
    mixinStandardHelpOptions = true,
    description = "Show the content store's usage by area and what `stagefarm prune` would reclaim (admins).")
public final class DuCommand implements Callable<Integer> {
  @Mixin FarmConnection connection;

  @Override
  public Integer call() {
    StoreUsage usage;
    try (RemoteFarm farm = connection.open("stagefarm du")) {
      usage = new BuildClient(farm).storeUsage();
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"AREA", "OBJECTS", "SIZE"});
    long objects = 0;
    long bytes = 0;
    for (StoreArea area : usage.getAreasList()) {
      rows.add(new String[] {area.getName(), Long.toString(area.getObjects()), Sizes.of(area.getBytes())});
      objects += area.getObjects();
      bytes += area.getBytes();
    }
    rows.add(new String[] {"total", Long.toString(objects), Sizes.of(bytes)});
    Table.print(rows, System.out);
    System.out.println("reclaimable: " + usage.getReclaimableRecords() + " cache records, "
        + usage.getReclaimableObjects() + " objects (" + Sizes.of(usage.getReclaimableBytes()) + ")");
    return 0;
  }
}
