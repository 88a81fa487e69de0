package dev.stagefarm.worker.runtime;

import java.util.List;

/** A USER resolved to numeric ids, as the process runs with them. */
public record ResolvedUser(long uid, long gid, List<Long> additionalGids, String home) {
  public static final ResolvedUser ROOT = new ResolvedUser(0, 0, List.of(), "/root");

  public ResolvedUser {
    additionalGids = List.copyOf(additionalGids);
  }
}
