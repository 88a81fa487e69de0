package dev.stagefarm.worker;

import java.nio.file.Path;

/** In a child JVM: tries the lock on args[0] once and prints "HELD" or "REFUSED by <holder>". */
public final class HeldLockProbeMain {
  public static void main(String[] args) throws Exception {
    HeldLock.Result result = HeldLock.tryHold(Path.of(args[0]), HeldLock.thisProcess("probe"));
    System.out.println(result.held() != null ? "HELD" : "REFUSED by " + result.refusal().holder());
  }
}
