package dev.stagefarm.coordinator.grpc.auth;

import io.grpc.Context;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who made an API call, as {@link Authenticator} established it: an identity (a token's name or a
 * client certificate's subject CN) and its role.
 */
public record Caller(String identity, Role role) {
  public enum Role {
    /** Sees and controls the builds it submitted. */
    CLIENT,
    /** Sees and controls every build. */
    ADMIN
  }

  private static final Pattern IDENTITY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@:/+=-]{0,255}");

  /** Every caller of a farm without authentication (loopback, or an acknowledged open bind). */
  public static final Caller ANONYMOUS = new Caller("anonymous", Role.ADMIN);

  static final Context.Key<Caller> KEY = Context.key("stagefarm-caller");

  public Caller {
    if (!IDENTITY.matcher(identity).matches()) {
      throw new IllegalArgumentException("identity \"" + identity + "\" must be 1-256 characters of letters, digits"
          + " and ._@:/+=- (starting with a letter or digit)");
    }
  }

  /** The caller of the current gRPC call; empty outside an authenticated call. */
  public static Optional<Caller> current() {
    return Optional.ofNullable(KEY.get());
  }

  /** Whether this caller may see and act on a build owned by {@code owner}. */
  public boolean mayAccess(String owner) {
    return role == Role.ADMIN || identity.equals(owner);
  }
}
