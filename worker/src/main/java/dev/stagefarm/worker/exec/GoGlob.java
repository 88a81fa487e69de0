package dev.stagefarm.worker.exec;

/**
 * Go's {@code path/filepath.Match}: {@code *} (no '/'), {@code ?}, {@code [a-z]}, {@code [^x]},
 * {@code \} escapes. A malformed pattern matches nothing (Go returns ErrBadPattern).
 */
final class GoGlob {
  private GoGlob() {}

  static boolean hasMeta(String pattern) {
    return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0 || pattern.indexOf('[') >= 0
        || pattern.indexOf('\\') >= 0;
  }

  static boolean match(String pattern, String name) {
    return match(pattern, 0, name, 0);
  }

  private static boolean match(String p, int pi, String s, int si) {
    while (pi < p.length()) {
      char c = p.charAt(pi);
      switch (c) {
        case '*' -> {
          while (pi < p.length() && p.charAt(pi) == '*') {
            pi++;
          }
          if (pi == p.length()) {
            return s.indexOf('/', si) < 0;
          }
          for (int k = si; k <= s.length(); k++) {
            if (match(p, pi, s, k)) {
              return true;
            }
            if (k < s.length() && s.charAt(k) == '/') {
              return false;
            }
          }
          return false;
        }
        case '?' -> {
          if (si >= s.length() || s.charAt(si) == '/') {
            return false;
          }
          pi++;
          si++;
        }
        case '[' -> {
          if (si >= s.length() || s.charAt(si) == '/') {
            return false;
          }
          int end = classEnd(p, pi);
          if (end < 0) {
            return false;
          }
          if (!inClass(p.substring(pi + 1, end), s.charAt(si))) {
            return false;
          }
          pi = end + 1;
          si++;
        }
        case '\\' -> {
          if (pi + 1 >= p.length()) {
            return false;
          }
          if (si >= s.length() || s.charAt(si) != p.charAt(pi + 1)) {
            return false;
          }
          pi += 2;
          si++;
        }
        default -> {
          if (si >= s.length() || s.charAt(si) != c) {
            return false;
          }
          pi++;
          si++;
        }
      }
    }
    return si == s.length();
  }

  private static int classEnd(String p, int open) {
    int i = open + 1;
    if (i < p.length() && p.charAt(i) == '^') {
      i++;
    }
    if (i < p.length() && p.charAt(i) == ']') {
      return -1; // Go: an empty class is a bad pattern
    }
    for (; i < p.length(); i++) {
      if (p.charAt(i) == '\\') {
        i++;
      } else if (p.charAt(i) == ']') {
        return i;
      }
    }
    return -1;
  }

  private static boolean inClass(String body, char c) {
    boolean negate = body.startsWith("^");
    int i = negate ? 1 : 0;
    boolean matched = false;
    while (i < body.length()) {
      char lo = body.charAt(i);
      if (lo == '\\' && i + 1 < body.length()) {
        lo = body.charAt(++i);
      }
      char hi = lo;
      if (i + 2 < body.length() && body.charAt(i + 1) == '-') {
        hi = body.charAt(i + 2);
        if (hi == '\\' && i + 3 < body.length()) {
          hi = body.charAt(i + 3);
          i++;
        }
        i += 2;
      }
      if (lo <= c && c <= hi) {
        matched = true;
      }
      i++;
    }
    return matched != negate;
  }
}
