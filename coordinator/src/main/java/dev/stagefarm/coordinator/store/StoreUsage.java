package dev.stagefarm.coordinator.store;

import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.StoredObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the content store's bucket holds, by area (one listing of the bucket). */
public final class StoreUsage {
  /** One area of the bucket: its objects and their bytes. */
  public record Area(String name, long objects, long bytes) {}

  private static final Map<String, String> AREAS = areas();

  private StoreUsage() {}

  private static Map<String, String> areas() {
    Map<String, String> areas = new LinkedHashMap<>();
    areas.put(Namespace.BLOBS.prefix(), "blobs");
    areas.put(Namespace.CONTEXT.prefix(), "context");
    areas.put(Namespace.PROGRAMS.prefix(), "programs");
    areas.put("cache/", "cache records");
    areas.put("secrets/", "sealed secrets");
    return areas;
  }

  /** Every area of the store, in a fixed order (empty ones too); keys outside them count as "other". */
  public static List<Area> measure(BlobStore store) throws IOException {
    Map<String, long[]> totals = new LinkedHashMap<>();
    AREAS.values().forEach(name -> totals.put(name, new long[2]));
    totals.put("other", new long[2]);
    for (StoredObject object : store.list("")) {
      long[] total = totals.get(areaOf(object.key()));
      total[0]++;
      total[1] += object.size();
    }
    List<Area> result = new ArrayList<>();
    totals.forEach((name, total) -> result.add(new Area(name, total[0], total[1])));
    return result;
  }

  private static String areaOf(String key) {
    for (Map.Entry<String, String> area : AREAS.entrySet()) {
      if (key.startsWith(area.getKey())) {
        return area.getValue();
      }
    }
    return "other";
  }
}
