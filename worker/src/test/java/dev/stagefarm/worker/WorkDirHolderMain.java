package dev.stagefarm.worker;

import java.nio.file.Path;

/**
 * A real worker in a child JVM on its own in-process bus and a file store, holding its work dir until killed.
 * Args: work dir, store dir, worker id.
 */
public final class WorkDirHolderMain {
  public static void main(String[] args) throws Exception {
    WorkDirLockTest.OneHostFarm farm = new WorkDirLockTest.OneHostFarm(Path.of(args[1]));
    farm.worker(Path.of(args[0]), args[2]).start();
    System.out.println("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}
