package dev.stagefarm.cli;

/**
 * What {@code stagefarm} exits with (docs/cli.md, "Exit codes"). A script can tell a broken build
 * from a broken farm: retrying helps with 3, never with 1 or 2.
 */
public final class ExitCodes {
  /** Done. */
  public static final int OK = 0;
  /** The build failed: the Dockerfile, a RUN, a missing file in the context, a bad base image name. */
  public static final int BUILD_FAILED = 1;
  /** The command line is wrong: an unknown flag, a malformed value (picocli's own usage code). */
  public static final int USAGE = 2;
  /** The farm failed: unreachable, refused the credentials, ran out of storage, could not push or export. */
  public static final int FARM_FAILED = 3;
  /** A bug in stagefarm (the message asks for STAGEFARM_DEBUG=1). */
  public static final int INTERNAL = 70;

  private ExitCodes() {}

  /** A malformed flag value: printed as one line, exit {@link #USAGE}. */
  public static UserError usage(String message) {
    return new UserError(message, USAGE);
  }

  /** The farm (not the build) failed: printed as one line, exit {@link #FARM_FAILED}. */
  public static UserError farm(String message) {
    return new UserError(message, FARM_FAILED);
  }
}
