package dev.stagefarm.coordinator;

/** A submission over the owner's limit of unfinished builds; nothing was planned or recorded. */
public final class BuildLimitExceededException extends RuntimeException {
  private final String owner;
  private final int limit;

  public BuildLimitExceededException(String owner, int limit) {
    super(owner + " already has " + limit + " unfinished build(s), the limit per client");
    this.owner = owner;
    this.limit = limit;
  }

  public String owner() {
    return owner;
  }

  public int limit() {
    return limit;
  }
}
