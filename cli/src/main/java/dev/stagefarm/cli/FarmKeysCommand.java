package dev.stagefarm.cli;

import dev.stagefarm.program.FarmKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code stagefarm admin farm-keys --out DIR}: new role keys, {@code coordinator.key} for the
 * coordinator and {@code worker.key} for every worker (owner-only files, never overwritten).
 */
@Command(
    name = "farm-keys",
    mixinStandardHelpOptions = true,
    description = "Write new Ed25519 role keys: DIR/coordinator.key (the coordinator's --farm-key-file) and"
        + " DIR/worker.key (every worker's farm-key-file); docs/security.md, \"Farm parts\".")
public final class FarmKeysCommand implements Callable<Integer> {
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the two key files.")
  Path out;

  @Override
  public Integer call() {
    Path coordinator = out.resolve("coordinator.key");
    Path worker = out.resolve("worker.key");
    for (Path file : new Path[] {coordinator, worker}) {
      if (Files.exists(file)) {
        throw new UserError(file + " exists: move it away first (a new key pair replaces the farm's trust)");
      }
    }
    FarmKeys.RoleKeyFiles files = FarmKeys.generateRoleKeys();
    try {
      FarmKeys.writeOwnerOnly(coordinator, files.coordinator());
      FarmKeys.writeOwnerOnly(worker, files.worker());
    } catch (IOException e) {
      throw new UserError("cannot write the key files in " + out + ": " + e.getMessage());
    }
    System.err.println("wrote " + coordinator + " (coordinator only) and " + worker + " (workers only)");
    return 0;
  }
}
