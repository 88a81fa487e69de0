package dev.stagefarm.dockerfile.parser;

import java.util.List;
import java.util.Optional;

/** The parser directives found at the top of a Dockerfile, in file order (each key at most once). */
public record Directives(List<Directive> all) {

  public static final Directives NONE = new Directives(List.of());

  public Directives {
    all = List.copyOf(all);
  }

  /** The directive with this key ({@code syntax}, {@code escape}, {@code check}), if present. */
  public Optional<Directive> get(String name) {
    return all.stream().filter(d -> d.name().equals(name)).findFirst();
  }

  /** The {@code # syntax=} value, e.g. {@code docker/dockerfile:1}. */
  public Optional<String> syntax() {
    return get("syntax").map(Directive::value);
  }

  /** The {@code # escape=} value: {@code \} or a backtick. */
  public Optional<String> escape() {
    return get("escape").map(Directive::value);
  }

  /** The {@code # check=} value, e.g. {@code skip=all;error=true}. */
  public Optional<String> check() {
    return get("check").map(Directive::value);
  }
}
