package dev.stagefarm.worker.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Resolves a Dockerfile USER ({@code name}, {@code uid}, {@code name:group}, {@code uid:gid}) through
 * the rootfs' /etc/passwd and /etc/group, as runc/BuildKit do: a name that is not in passwd is an
 * error; a numeric uid that is not there runs with gid 0 (or the given group).
 */
public final class UserResolver {
  private UserResolver() {}

  /** Where a file of the image is on the host (empty: not there): a merged rootfs, or a layer stack read without a mount. */
  @FunctionalInterface
  public interface ImageFiles {
    Optional<Path> find(String path) throws IOException;

    static ImageFiles in(Path rootfs) {
      return path -> RootfsPaths.resolve(rootfs, path);
    }
  }

  /** @throws UnknownUserException when a name is not in the image */
  public static ResolvedUser resolve(Path rootfs, String user) throws IOException, UnknownUserException {
    return resolve(ImageFiles.in(rootfs), user);
  }

  /** {@link #resolve(Path, String)} reading /etc/passwd and /etc/group through {@code image}. */
  public static ResolvedUser resolve(ImageFiles image, String user) throws IOException, UnknownUserException {
    if (user == null || user.isEmpty()) {
      user = "root";
    }
    String userPart = user;
    String groupPart = null;
    int colon = user.indexOf(':');
    if (colon >= 0) {
      userPart = user.substring(0, colon);
      groupPart = user.substring(colon + 1);
    }
    List<String[]> passwd = table(image.find("/etc/passwd"));
    List<String[]> groups = table(image.find("/etc/group"));
    long uid;
    long gid = 0;
    String name = null;
    String home = "/";
    String u = userPart;
    Optional<String[]> entry = isNumeric(u)
        ? passwd.stream().filter(e -> e.length > 3 && e[2].equals(u)).findFirst()
        : passwd.stream().filter(e -> e.length > 3 && e[0].equals(u)).findFirst();
    if (entry.isPresent()) {
      String[] e = entry.get();
      name = e[0];
      uid = Long.parseLong(e[2]);
      gid = Long.parseLong(e[3]);
      home = e.length > 5 && !e[5].isEmpty() ? e[5] : "/";
    } else if (isNumeric(userPart)) {
      uid = Long.parseLong(userPart);
    } else {
      throw new UnknownUserException("unable to find user " + userPart + ": no matching entries in passwd file");
    }
    List<Long> additional = new ArrayList<>();
    if (groupPart != null && !groupPart.isEmpty()) {
      String g = groupPart;
      Optional<String[]> ge = isNumeric(g)
          ? groups.stream().filter(e -> e.length > 2 && e[2].equals(g)).findFirst()
          : groups.stream().filter(e -> e.length > 2 && e[0].equals(g)).findFirst();
      if (ge.isPresent()) {
        gid = Long.parseLong(ge.get()[2]);
      } else if (isNumeric(g)) {
        gid = Long.parseLong(g);
      } else {
        throw new UnknownUserException("unable to find group " + g + ": no matching entries in group file");
      }
    } else if (name != null) {
      // supplementary groups only when USER names no group, as runc does
      for (String[] g : groups) {
        if (g.length > 3 && List.of(g[3].split(",")).contains(name)) {
          long id = Long.parseLong(g[2]);
          if (id != gid && !additional.contains(id)) {
            additional.add(id);
          }
        }
      }
    }
    return new ResolvedUser(uid, gid, additional, home);
  }

  /**
   * The owner {@code COPY/ADD --chown} gives files, as BuildKit resolves it: a numeric user is taken
   * as it is and, without a group, is the group too ({@code 1001} is 1001:1001); a name comes
   * from /etc/passwd with its primary group; a group, numeric or named (/etc/group), overrides it.
   *
   * @throws UnknownUserException when a name is not in the image
   */
  public static ResolvedUser resolveOwner(Path rootfs, String chown) throws IOException, UnknownUserException {
    return resolveOwner(ImageFiles.in(rootfs), chown);
  }

  /** {@link #resolveOwner(Path, String)} reading /etc/passwd and /etc/group through {@code image}. */
  public static ResolvedUser resolveOwner(ImageFiles image, String chown) throws IOException, UnknownUserException {
    int colon = chown.indexOf(':');
    String userPart = colon < 0 ? chown : chown.substring(0, colon);
    String groupPart = colon < 0 ? "" : chown.substring(colon + 1);
    long uid;
    long gid;
    if (isNumeric(userPart)) {
      uid = Long.parseLong(userPart);
      gid = uid;
    } else {
      ResolvedUser named = resolve(image, userPart);
      uid = named.uid();
      gid = named.gid();
    }
    if (!groupPart.isEmpty()) {
      gid = isNumeric(groupPart) ? Long.parseLong(groupPart) : resolve(image, "0:" + groupPart).gid();
    }
    return new ResolvedUser(uid, gid, List.of(), "/");
  }

  private static boolean isNumeric(String s) {
    return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
  }

  private static List<String[]> table(Optional<Path> file) throws IOException {
    if (file.isEmpty() || !Files.isRegularFile(file.get())) {
      return List.of();
    }
    List<String[]> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file.get(), StandardCharsets.UTF_8)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        rows.add(line.split(":", -1));
      }
    }
    return rows;
  }

  /** USER or --chown names a user or group the image does not have: the build's error. */
  public static final class UnknownUserException extends dev.stagefarm.worker.UserError {
    public UnknownUserException(String message) {
      super(message);
    }
  }
}
