package dev.stagefarm.config;

import java.util.List;

/** Every role's key table: the loader tells a misspelt variable from another role's key with it. */
public final class Roles {
  private Roles() {}

  public static final List<ConfigDef> ALL = List.of(CoordinatorKeys.DEF, WorkerKeys.DEF, UpKeys.DEF);

  /** The roles (other than {@code except}) that read this environment variable as a key. */
  public static List<String> readingEnv(String variable, ConfigDef except) {
    return ALL.stream().filter(d -> d != except && d.findByEnv(variable).isPresent()).map(ConfigDef::role).toList();
  }

  /** The roles (other than {@code except}) that have a key of this name. */
  public static List<String> having(String name, ConfigDef except) {
    return ALL.stream().filter(d -> d != except && d.find(name).isPresent()).map(ConfigDef::role).toList();
  }
}
