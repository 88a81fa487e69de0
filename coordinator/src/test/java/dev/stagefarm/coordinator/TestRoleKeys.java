package dev.stagefarm.coordinator;

import dev.stagefarm.program.FarmKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A fresh farm's role keys, loaded from their files as a coordinator and a worker load them. */
public record TestRoleKeys(FarmKeys coordinator, FarmKeys worker) {
  public static TestRoleKeys generate() throws IOException {
    FarmKeys.RoleKeyFiles files = FarmKeys.generateRoleKeys();
    Path dir = Files.createTempDirectory("role-keys-");
    Files.writeString(dir.resolve("coordinator.key"), files.coordinator());
    Files.writeString(dir.resolve("worker.key"), files.worker());
    return new TestRoleKeys(FarmKeys.load(dir.resolve("coordinator.key")), FarmKeys.load(dir.resolve("worker.key")));
  }
}
