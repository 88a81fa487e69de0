package dev.stagefarm.worker;

import java.nio.file.Path;

/**
 * In a child JVM: tries the lock on args[0] once and prints "HELD" or "REFUSED by <holder>"; with args[1] "hold", keeps
 * a lock it took until killed.
 */
public final class HeldLockProbeMain {
  public static void main(String[] args) throws Exception {
    HeldLock.Result result = HeldLock.tryHold(Path.of(args[0]), HeldLock.thisProcess("probe"));
    System.out.println(result.held() != null ? "HELD" : "REFUSED by " + result.refusal().holder());
    System.out.flush();
    if (result.held() != null && args.length > 1 && args[1].equals("hold")) {
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
