package dev.stagefarm.program;

import java.util.ArrayList;
import java.util.List;

/**
 * A symbolic {@code --chmod} ({@code u+x}, {@code u=rwX,go=rX}, {@code g=u}, {@code +x}), applied
 * per copied entry relative to its own mode, as BuildKit ≥ 1.14 does (fsutil's copy with the
 * {@code dchapes-mode} package: BSD setmode(3) semantics with a umask of 0).
 *
 * <p>Where that differs from GNU chmod(1), this follows BuildKit: {@code X} looks at the entry's
 * mode before the whole change (GNU: as changed so far, so {@code u+x,g+X} adds g+x on GNU only),
 * and {@code =} clears a directory's set-id bits like a file's (GNU keeps them). A who-less clause
 * ignores the umask ({@code +w} is {@code a+w}).
 */
public final class SymbolicMode {
  private static final int SET_UID = 04000;
  private static final int SET_GID = 02000;
  private static final int STICKY = 01000;
  private static final int USER = 04700;
  private static final int GROUP = 02070;
  private static final int OTHER = 00007;
  /** What {@code a} names: every bit but sticky. */
  private static final int ALL = SET_UID | SET_GID | 0777;
  private static final int READ = 0444;
  private static final int WRITE = 0222;
  private static final int EXECUTE = 0111;

  private final String text;
  private final List<Step> steps;

  private SymbolicMode(String text, List<Step> steps) {
    this.text = text;
    this.steps = List.copyOf(steps);
  }

  /** One change, applied in order. */
  private sealed interface Step {}

  private record Clear(int bits) implements Step {}

  private record Set(int bits) implements Step {}

  /** {@code X}: set only on a directory or an entry that had an execute bit. */
  private record SetIfExecutable(int bits) implements Step {}

  /**
   * {@code g=u} and the like: the source class's rwx bits copied to the target classes.
   *
   * @param from the shift of the source class (6 user, 3 group, 0 other)
   * @param targets the shifts of the target classes
   * @param op '+' adds the copied bits, '-' clears them, '=' makes the targets equal to them
   */
  private record Copy(int from, List<Integer> targets, char op) implements Step {}

  /**
   * @throws IllegalArgumentException {@code invalid syntax}, BuildKit's message, for anything that
   *     is not a symbolic mode (octal modes are not symbolic: they start with a digit)
   */
  public static SymbolicMode parse(String text) {
    List<Step> steps = new ArrayList<>();
    int i = 0;
    if (text.isEmpty() || Character.isDigit(text.charAt(0))) {
      throw invalid();
    }
    while (true) {
      int who = 0;
      for (; i < text.length() && "augo".indexOf(text.charAt(i)) >= 0; i++) {
        who |= switch (text.charAt(i)) {
          case 'a' -> ALL;
          case 'u' -> USER;
          case 'g' -> GROUP;
          default -> OTHER;
        };
      }
      if (i == text.length()) {
        throw invalid();
      }
      // one or more "op perms" for the same who: u+r-w
      while (true) {
        char op = text.charAt(i++);
        if (op != '+' && op != '-' && op != '=') {
          throw invalid();
        }
        who &= ~STICKY;
        boolean equalDone = false;
        int perm = 0;
        int permX = 0;
        for (; ; i++) {
          char c = i < text.length() ? text.charAt(i) : 0;
          boolean notOnlyOther = who == 0 || (who & ~OTHER) != 0; // set-id and sticky make no sense for o alone
          if (c == 'r') {
            perm |= READ;
          } else if (c == 'w') {
            perm |= WRITE;
          } else if (c == 'x') {
            perm |= EXECUTE;
          } else if (c == 'X') {
            if (op == '-') {
              perm |= EXECUTE;
            } else {
              permX = EXECUTE;
            }
          } else if (c == 's') {
            perm |= notOnlyOther ? SET_UID | SET_GID : 0;
          } else if (c == 't') {
            if (notOnlyOther) {
              who |= STICKY;
              perm |= STICKY;
            }
          } else if (c == 'u' || c == 'g' || c == 'o') {
            if (perm != 0) {
              add(steps, op, who, perm);
              perm = 0;
            }
            equalDone |= op == '=';
            if (permX != 0) {
              steps.add(new SetIfExecutable(masked(who, permX)));
              permX = 0;
            }
            steps.add(new Copy(shift(c), targets(who), op));
          } else {
            if (perm != 0 || (op == '=' && !equalDone)) {
              equalDone = true;
              add(steps, op, who, perm);
            }
            if (permX != 0) {
              steps.add(new SetIfExecutable(masked(who, permX)));
            }
            break;
          }
        }
        if (i == text.length() || text.charAt(i) == ',') {
          break;
        }
      }
      if (i == text.length()) {
        return new SymbolicMode(text, steps);
      }
      i++; // ','
    }
  }

  private static IllegalArgumentException invalid() {
    return new IllegalArgumentException("invalid syntax");
  }

  private static void add(List<Step> steps, char op, int who, int perm) {
    switch (op) {
      case '=' -> {
        steps.add(new Clear(who != 0 ? who : ALL));
        steps.add(new Set(masked(who, perm)));
      }
      case '+' -> steps.add(new Set(masked(who, perm)));
      default -> steps.add(new Clear(masked(who, perm)));
    }
  }

  /** The bits a clause touches: its who's, or all of them without a who. */
  private static int masked(int who, int perm) {
    return who != 0 ? who & perm : perm;
  }

  private static int shift(char clazz) {
    return switch (clazz) {
      case 'u' -> 6;
      case 'g' -> 3;
      default -> 0;
    };
  }

  private static List<Integer> targets(int who) {
    if (who == 0) {
      return List.of(6, 3, 0);
    }
    List<Integer> out = new ArrayList<>();
    if ((who & 0400) != 0) {
      out.add(6);
    }
    if ((who & 0040) != 0) {
      out.add(3);
    }
    if ((who & 0004) != 0) {
      out.add(0);
    }
    return out;
  }

  /**
   * The mode of an entry after this change.
   *
   * @param mode the entry's mode before (permission, set-id and sticky bits; higher bits are kept)
   * @param directory whether the entry is a directory ({@code X} always applies to one)
   */
  public int apply(int mode, boolean directory) {
    int before = mode & 07777;
    int bits = before;
    for (Step step : steps) {
      switch (step) {
        case Clear clear -> bits &= ~clear.bits();
        case Set set -> bits |= set.bits();
        case SetIfExecutable x -> {
          if (directory || (before & EXECUTE) != 0) {
            bits |= x.bits();
          }
        }
        case Copy copy -> {
          int value = (bits >> copy.from()) & 07;
          for (int target : copy.targets()) {
            if (copy.op() != '+') {
              bits &= ~(((copy.op() == '=' ? 07 : value) << target));
            }
            if (copy.op() != '-') {
              bits |= value << target;
            }
          }
        }
      }
    }
    return (mode & ~07777) | (bits & 07777);
  }

  /** The mode as written. */
  public String text() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SymbolicMode other && other.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
