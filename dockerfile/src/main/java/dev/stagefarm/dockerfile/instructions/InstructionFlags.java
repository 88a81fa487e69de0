package dev.stagefarm.dockerfile.instructions;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code --flags} of one instruction, checked against the flags that instruction accepts
 * (BuildKit's {@code BFlags}): an instruction declares its flags, then calls {@link #parse()},
 * which rejects unknown, duplicate and malformed ones with BuildKit's messages.
 */
final class InstructionFlags {

  private enum Kind {
    BOOL,
    STRING,
    STRINGS
  }

  /** One declared flag and the value(s) it was given. */
  static final class Flag {
    private final String name;
    private final Kind kind;
    private String value;
    private final List<String> values = new ArrayList<>();
    private boolean used;

    private Flag(String name, Kind kind, String value) {
      this.name = name;
      this.kind = kind;
      this.value = value;
    }

    /** The string value (or the default). */
    String value() {
      return value;
    }

    /** The values of a repeatable flag, in order. */
    List<String> values() {
      return List.copyOf(values);
    }

    /** Whether a boolean flag is true. */
    boolean isTrue() {
      return "true".equals(value);
    }

    /** Whether the flag was written on the instruction. */
    boolean isUsed() {
      return used;
    }

    String name() {
      return name;
    }
  }

  private final List<String> args;
  private final Map<String, Flag> declared = new LinkedHashMap<>();
  private final Set<String> used = new LinkedHashSet<>();

  InstructionFlags(List<String> args) {
    this.args = List.copyOf(args);
  }

  Flag addBool(String name, boolean defaultValue) {
    return add(new Flag(name, Kind.BOOL, defaultValue ? "true" : "false"));
  }

  Flag addString(String name, String defaultValue) {
    return add(new Flag(name, Kind.STRING, defaultValue));
  }

  Flag addStrings(String name) {
    return add(new Flag(name, Kind.STRINGS, ""));
  }

  private Flag add(Flag flag) {
    if (declared.putIfAbsent(flag.name, flag) != null) {
      throw new IllegalStateException("flag declared twice: " + flag.name);
    }
    return flag;
  }

  /** The names of the flags that were written, in order. */
  List<String> used() {
    return List.copyOf(used);
  }

  /**
   * Reads the written flags into the declared ones.
   *
   * @throws IllegalArgumentException with BuildKit's message, e.g. {@code unknown flag: --boo}
   */
  void parse() {
    for (String arg : args) {
      if (arg.equals("--")) {
        return;
      }
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("arg should start with -- : " + arg);
      }
      String name = arg.substring(2);
      String value = "";
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      Flag flag = declared.get(name);
      if (flag == null) {
        throw new IllegalArgumentException("unknown flag: --" + name);
      }
      if (flag.used && flag.kind != Kind.STRINGS) {
        throw new IllegalArgumentException("duplicate flag specified: " + name);
      }
      flag.used = true;
      used.add(name);
      switch (flag.kind) {
        case BOOL -> {
          if (eq >= 0 && value.isEmpty()) {
            throw new IllegalArgumentException("missing a value on flag: " + name);
          }
          String lower = value.toLowerCase(Locale.ROOT);
          if (lower.isEmpty() || lower.equals("true")) {
            flag.value = "true";
          } else if (lower.equals("false")) {
            flag.value = "false";
          } else {
            throw new IllegalArgumentException(
                "expecting boolean value for flag " + name + ", not: " + value);
          }
        }
        case STRING -> {
          if (eq < 0) {
            throw new IllegalArgumentException("missing a value on flag: " + name);
          }
          flag.value = value;
        }
        case STRINGS -> {
          if (eq < 0) {
            throw new IllegalArgumentException("missing a value on flag: " + name);
          }
          flag.values.add(value);
        }
      }
    }
  }
}
