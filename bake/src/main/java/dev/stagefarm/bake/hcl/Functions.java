package dev.stagefarm.bake.hcl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The built-in functions of bake files: those of buildx's standard library (go-cty's stdlib plus
 * a few of its own) that make sense here. {@code try} and {@code can} need their arguments
 * unevaluated and live in {@link Evaluator}. Functions that read files or the clock beyond
 * {@code timestamp()} are not offered.
 */
public final class Functions {
  private Functions() {}

  @FunctionalInterface
  interface Fn {
    Object apply(Args args);
  }

  /** The arguments of one call, with conversions that name the function in their errors. */
  record Args(String function, List<Object> values, Pos pos) {
    int size() {
      return values.size();
    }

    Object get(int i) {
      return values.get(i);
    }

    String string(int i) {
      return Values.asString(values.get(i), pos, function + "() argument " + (i + 1));
    }

    BigDecimal number(int i) {
      return Values.asNumber(values.get(i), pos, function + "() argument " + (i + 1));
    }

    int integer(int i) {
      try {
        return number(i).intValueExact();
      } catch (ArithmeticException e) {
        throw error("argument " + (i + 1) + " must be a whole number");
      }
    }

    boolean bool(int i) {
      return Values.asBool(values.get(i), pos, function + "() argument " + (i + 1));
    }

    List<Object> list(int i) {
      return Values.asList(values.get(i), pos, function + "() argument " + (i + 1));
    }

    Map<String, Object> map(int i) {
      return Values.asMap(values.get(i), pos, function + "() argument " + (i + 1));
    }

    HclException error(String message) {
      return new HclException(pos, function + "(): " + message);
    }
  }

  private record Def(int min, int max, Fn fn) {}

  private static final int ANY = Integer.MAX_VALUE;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, Def> FUNCTIONS = new TreeMap<>();

  /** The names of the built-in functions (for docs and error messages). */
  public static Set<String> names() {
    Set<String> names = new java.util.TreeSet<>(FUNCTIONS.keySet());
    names.add("try");
    names.add("can");
    return names;
  }

  static Object call(String name, List<Object> values, Pos pos) {
    Def def = FUNCTIONS.get(name);
    if (def == null) {
      throw new HclException(pos, "there is no function named \"" + name + "\" (stagefarm bake knows: "
          + String.join(", ", names()) + ")");
    }
    if (values.size() < def.min || values.size() > def.max) {
      String wanted = def.min == def.max ? String.valueOf(def.min)
          : def.max == ANY ? "at least " + def.min : def.min + " to " + def.max;
      throw new HclException(pos, name + "() takes " + wanted + " argument(s), got " + values.size());
    }
    return def.fn.apply(new Args(name, values, pos));
  }

  private static void def(String name, int min, int max, Fn fn) {
    FUNCTIONS.put(name, new Def(min, max, fn));
  }

  private static BigDecimal num(long n) {
    return BigDecimal.valueOf(n);
  }

  static {
    // numbers
    def("add", 2, 2, a -> a.number(0).add(a.number(1), MathContext.DECIMAL128));
    def("subtract", 2, 2, a -> a.number(0).subtract(a.number(1), MathContext.DECIMAL128));
    def("multiply", 2, 2, a -> a.number(0).multiply(a.number(1), MathContext.DECIMAL128));
    def("divide", 2, 2, a -> {
      if (a.number(1).signum() == 0) {
        throw a.error("division by zero");
      }
      return a.number(0).divide(a.number(1), MathContext.DECIMAL128);
    });
    def("modulo", 2, 2, a -> {
      if (a.number(1).signum() == 0) {
        throw a.error("modulo by zero");
      }
      return a.number(0).remainder(a.number(1), MathContext.DECIMAL128);
    });
    def("negate", 1, 1, a -> a.number(0).negate());
    def("absolute", 1, 1, a -> a.number(0).abs());
    def("abs", 1, 1, a -> a.number(0).abs());
    def("ceil", 1, 1, a -> a.number(0).setScale(0, RoundingMode.CEILING));
    def("floor", 1, 1, a -> a.number(0).setScale(0, RoundingMode.FLOOR));
    def("signum", 1, 1, a -> num(a.number(0).signum()));
    def("int", 1, 1, a -> a.number(0).setScale(0, RoundingMode.DOWN));
    def("max", 1, ANY, a -> {
      BigDecimal best = a.number(0);
      for (int i = 1; i < a.size(); i++) {
        best = best.max(a.number(i));
      }
      return best;
    });
    def("min", 1, ANY, a -> {
      BigDecimal best = a.number(0);
      for (int i = 1; i < a.size(); i++) {
        best = best.min(a.number(i));
      }
      return best;
    });
    def("pow", 2, 2, a -> {
      int exponent = a.integer(1);
      if (exponent < 0 || exponent > 1000) {
        throw a.error("the exponent must be between 0 and 1000");
      }
      return a.number(0).pow(exponent, MathContext.DECIMAL128);
    });
    def("log", 2, 2, a -> BigDecimal.valueOf(Math.log(a.number(0).doubleValue()) / Math.log(a.number(1).doubleValue())));
    def("parseint", 2, 2, a -> {
      try {
        return new BigDecimal(new java.math.BigInteger(a.string(0), a.integer(1)));
      } catch (NumberFormatException e) {
        throw a.error("\"" + a.string(0) + "\" is not a number in base " + a.integer(1));
      }
    });
    def("greaterthan", 2, 2, a -> a.number(0).compareTo(a.number(1)) > 0);
    def("greaterthanorequalto", 2, 2, a -> a.number(0).compareTo(a.number(1)) >= 0);
    def("lessthan", 2, 2, a -> a.number(0).compareTo(a.number(1)) < 0);
    def("lessthanorequalto", 2, 2, a -> a.number(0).compareTo(a.number(1)) <= 0);
    // logic
    def("and", 2, 2, a -> a.bool(0) && a.bool(1));
    def("or", 2, 2, a -> a.bool(0) || a.bool(1));
    def("not", 1, 1, a -> !a.bool(0));
    def("equal", 2, 2, a -> Values.equal(a.get(0), a.get(1)));
    def("notequal", 2, 2, a -> !Values.equal(a.get(0), a.get(1)));
    def("coalesce", 1, ANY, a -> {
      for (Object v : a.values()) {
        if (v != null && !"".equals(v)) {
          return v;
        }
      }
      throw a.error("all arguments are null or empty");
    });
    // strings
    def("upper", 1, 1, a -> a.string(0).toUpperCase(Locale.ROOT));
    def("lower", 1, 1, a -> a.string(0).toLowerCase(Locale.ROOT));
    def("title", 1, 1, a -> {
      StringBuilder out = new StringBuilder();
      boolean start = true;
      for (char c : a.string(0).toCharArray()) {
        out.append(start ? Character.toTitleCase(c) : c);
        start = Character.isWhitespace(c);
      }
      return out.toString();
    });
    def("strlen", 1, 1, a -> num(a.string(0).codePointCount(0, a.string(0).length())));
    def("byteslen", 1, 1, a -> num(a.string(0).getBytes(StandardCharsets.UTF_8).length));
    def("substr", 3, 3, a -> {
      int[] cps = a.string(0).codePoints().toArray();
      int offset = a.integer(1);
      int length = a.integer(2);
      if (offset < 0) {
        offset = Math.max(0, cps.length + offset);
      }
      offset = Math.min(offset, cps.length);
      int end = length < 0 ? cps.length : Math.min(cps.length, offset + length);
      return new String(cps, offset, end - offset);
    });
    def("trim", 2, 2, a -> {
      String s = a.string(0);
      String cut = a.string(1);
      int start = 0;
      int end = s.length();
      while (start < end && cut.indexOf(s.charAt(start)) >= 0) {
        start++;
      }
      while (end > start && cut.indexOf(s.charAt(end - 1)) >= 0) {
        end--;
      }
      return s.substring(start, end);
    });
    def("trimspace", 1, 1, a -> a.string(0).strip());
    def("trimprefix", 2, 2, a -> a.string(0).startsWith(a.string(1)) ? a.string(0).substring(a.string(1).length()) : a.string(0));
    def("trimsuffix", 2, 2, a -> a.string(0).endsWith(a.string(1))
        ? a.string(0).substring(0, a.string(0).length() - a.string(1).length()) : a.string(0));
    def("chomp", 1, 1, a -> a.string(0).replaceAll("[\\r\\n]+$", ""));
    def("indent", 2, 2, a -> a.string(1).replace("\n", "\n" + " ".repeat(Math.max(0, Math.min(a.integer(0), 1000)))));
    def("replace", 3, 3, a -> {
      String search = a.string(1);
      if (search.length() > 1 && search.startsWith("/") && search.endsWith("/")) {
        return regex(a, search.substring(1, search.length() - 1)).matcher(a.string(0))
            .replaceAll(goReplacement(a.string(2)));
      }
      return a.string(0).replace(search, a.string(2));
    });
    def("regex_replace", 3, 3, a -> regex(a, a.string(1)).matcher(a.string(0)).replaceAll(goReplacement(a.string(2))));
    def("regex", 2, 2, a -> {
      Matcher m = regex(a, a.string(0)).matcher(a.string(1));
      if (!m.find()) {
        throw a.error("pattern did not match");
      }
      return captures(m);
    });
    def("regexall", 2, 2, a -> {
      Matcher m = regex(a, a.string(0)).matcher(a.string(1));
      List<Object> all = new ArrayList<>();
      while (m.find() && all.size() <= Evaluator.MAX_ELEMENTS) {
        all.add(captures(m));
      }
      return all;
    });
    def("split", 2, 2, a -> {
      List<Object> parts = new ArrayList<>();
      String s = a.string(1);
      String sep = a.string(0);
      if (sep.isEmpty()) {
        s.codePoints().forEach(cp -> parts.add(new String(Character.toChars(cp))));
        return parts;
      }
      int from = 0;
      int at;
      while ((at = s.indexOf(sep, from)) >= 0) {
        parts.add(s.substring(from, at));
        from = at + sep.length();
      }
      parts.add(s.substring(from));
      return parts;
    });
    def("join", 2, ANY, a -> {
      List<String> parts = new ArrayList<>();
      for (int i = 1; i < a.size(); i++) {
        for (Object v : a.list(i)) {
          parts.add(Values.asString(v, a.pos(), "join() element"));
        }
      }
      return String.join(a.string(0), parts);
    });
    def("format", 1, ANY, a -> format(a, a.string(0), a.values().subList(1, a.size())));
    def("formatlist", 1, ANY, a -> {
      int n = -1;
      for (int i = 1; i < a.size(); i++) {
        if (a.get(i) instanceof List<?> l) {
          if (n >= 0 && l.size() != n) {
            throw a.error("all list arguments must have the same length");
          }
          n = l.size();
        }
      }
      List<Object> out = new ArrayList<>();
      for (int row = 0; row < Math.max(n, 1); row++) {
        List<Object> values = new ArrayList<>();
        for (int i = 1; i < a.size(); i++) {
          values.add(a.get(i) instanceof List<?> l ? l.get(row) : a.get(i));
        }
        out.add(format(a, a.string(0), values));
      }
      return out;
    });
    def("sanitize", 1, 1, a -> a.string(0).replaceAll("[^a-zA-Z0-9_-]", "_"));
    def("base64encode", 1, 1, a -> Base64.getEncoder().encodeToString(a.string(0).getBytes(StandardCharsets.UTF_8)));
    def("base64decode", 1, 1, a -> {
      try {
        return new String(Base64.getDecoder().decode(a.string(0)), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw a.error("not base64: " + e.getMessage());
      }
    });
    def("urlencode", 1, 1, a -> java.net.URLEncoder.encode(a.string(0), StandardCharsets.UTF_8).replace("+", "%20"));
    def("md5", 1, 1, a -> digest("MD5", a.string(0)));
    def("sha1", 1, 1, a -> digest("SHA-1", a.string(0)));
    def("sha256", 1, 1, a -> digest("SHA-256", a.string(0)));
    def("sha512", 1, 1, a -> digest("SHA-512", a.string(0)));
    def("uuidv4", 0, 0, a -> UUID.randomUUID().toString());
    def("uuidv5", 2, 2, a -> uuidv5(a));
    def("timestamp", 0, 0, a -> DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
    def("basename", 1, 1, a -> {
      String p = a.string(0).replaceAll("/+$", "");
      return p.isEmpty() ? "/" : p.substring(p.lastIndexOf('/') + 1);
    });
    def("dirname", 1, 1, a -> {
      String p = a.string(0);
      int slash = p.replaceAll("/+$", "").lastIndexOf('/');
      return slash < 0 ? "." : slash == 0 ? "/" : p.substring(0, slash);
    });
    def("jsonencode", 1, 1, a -> JsonText.write(a.get(0), false));
    def("jsondecode", 1, 1, a -> {
      try {
        return JsonText.toValue(JSON.readTree(a.string(0)));
      } catch (JsonProcessingException e) {
        throw a.error("not JSON: " + e.getOriginalMessage());
      }
    });
    // collections
    def("length", 1, 1, a -> switch (a.get(0)) {
      case String s -> num(s.codePointCount(0, s.length()));
      case List<?> l -> num(l.size());
      case Map<?, ?> m -> num(m.size());
      default -> throw a.error("needs a string, list or object, not a " + Values.typeName(a.get(0)));
    });
    def("concat", 0, ANY, a -> {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < a.size(); i++) {
        out.addAll(a.list(i));
      }
      return out;
    });
    def("contains", 2, 2, a -> a.list(0).stream().anyMatch(v -> Values.equal(v, a.get(1))));
    def("index", 2, 2, a -> Evaluator.index(a.get(0), a.get(1), a.pos()));
    def("indexof", 2, 2, a -> {
      List<Object> list = a.list(0);
      for (int i = 0; i < list.size(); i++) {
        if (Values.equal(list.get(i), a.get(1))) {
          return num(i);
        }
      }
      throw a.error("the value is not in the list");
    });
    def("element", 2, 2, a -> {
      List<Object> list = a.list(0);
      if (list.isEmpty()) {
        throw a.error("the list is empty");
      }
      return list.get(Math.floorMod(a.integer(1), list.size()));
    });
    def("hasindex", 2, 2, a -> {
      try {
        Evaluator.index(a.get(0), a.get(1), a.pos());
        return true;
      } catch (HclException e) {
        return false;
      }
    });
    def("lookup", 2, 3, a -> {
      Map<String, Object> map = a.map(0);
      String key = a.string(1);
      if (map.containsKey(key)) {
        return map.get(key);
      }
      if (a.size() == 3) {
        return a.get(2);
      }
      throw a.error("no key \"" + key + "\" and no default");
    });
    def("keys", 1, 1, a -> new ArrayList<Object>(new TreeMap<>(a.map(0)).keySet()));
    def("values", 1, 1, a -> new ArrayList<>(new TreeMap<>(a.map(0)).values()));
    def("merge", 0, ANY, a -> {
      Map<String, Object> out = new LinkedHashMap<>();
      for (int i = 0; i < a.size(); i++) {
        if (a.get(i) != null) {
          out.putAll(a.map(i));
        }
      }
      return out;
    });
    def("zipmap", 2, 2, a -> {
      List<Object> keys = a.list(0);
      List<Object> values = a.list(1);
      if (keys.size() != values.size()) {
        throw a.error("the lists have different lengths");
      }
      Map<String, Object> out = new LinkedHashMap<>();
      for (int i = 0; i < keys.size(); i++) {
        out.put(Values.asString(keys.get(i), a.pos(), "zipmap() key"), values.get(i));
      }
      return out;
    });
    def("distinct", 1, 1, a -> {
      List<Object> out = new ArrayList<>();
      for (Object v : a.list(0)) {
        if (out.stream().noneMatch(o -> Values.equal(o, v))) {
          out.add(v);
        }
      }
      return out;
    });
    def("compact", 1, 1, a -> new ArrayList<>(a.list(0).stream().filter(v -> v != null && !"".equals(v)).toList()));
    def("coalescelist", 1, ANY, a -> {
      for (int i = 0; i < a.size(); i++) {
        if (!a.list(i).isEmpty()) {
          return a.list(i);
        }
      }
      return List.of();
    });
    def("flatten", 1, 1, a -> {
      List<Object> out = new ArrayList<>();
      flatten(a.list(0), out, 0, a);
      return out;
    });
    def("reverse", 1, 1, a -> new ArrayList<>(a.list(0).reversed()));
    def("reverselist", 1, 1, a -> new ArrayList<>(a.list(0).reversed()));
    def("sort", 1, 1, a -> {
      List<String> strings = new ArrayList<>();
      for (Object v : a.list(0)) {
        strings.add(Values.asString(v, a.pos(), "sort() element"));
      }
      strings.sort(null);
      return new ArrayList<Object>(strings);
    });
    def("slice", 3, 3, a -> {
      List<Object> list = a.list(0);
      int from = a.integer(1);
      int to = a.integer(2);
      if (from < 0 || to > list.size() || from > to) {
        throw a.error("indexes " + from + ".." + to + " are out of range for a list of " + list.size());
      }
      return new ArrayList<>(list.subList(from, to));
    });
    def("chunklist", 2, 2, a -> {
      List<Object> list = a.list(0);
      int size = a.integer(1);
      if (size < 0) {
        throw a.error("the chunk size must not be negative");
      }
      List<Object> out = new ArrayList<>();
      if (size == 0) {
        out.add(list);
        return out;
      }
      for (int i = 0; i < list.size(); i += size) {
        out.add(new ArrayList<>(list.subList(i, Math.min(list.size(), i + size))));
      }
      return out;
    });
    def("range", 1, 3, a -> {
      BigDecimal start = a.size() == 1 ? BigDecimal.ZERO : a.number(0);
      BigDecimal limit = a.size() == 1 ? a.number(0) : a.number(1);
      BigDecimal step = a.size() == 3 ? a.number(2) : BigDecimal.valueOf(start.compareTo(limit) <= 0 ? 1 : -1);
      if (step.signum() == 0) {
        throw a.error("the step must not be zero");
      }
      List<Object> out = new ArrayList<>();
      for (BigDecimal v = start; step.signum() > 0 ? v.compareTo(limit) < 0 : v.compareTo(limit) > 0; v = v.add(step)) {
        if (out.size() >= Evaluator.MAX_ELEMENTS) {
          throw a.error("more than " + Evaluator.MAX_ELEMENTS + " elements");
        }
        out.add(v);
      }
      return out;
    });
    def("setunion", 1, ANY, a -> setOp(a, (x, y) -> {
      Set<Object> s = new LinkedHashSet<>(x);
      s.addAll(y);
      return s;
    }));
    def("setintersection", 1, ANY, a -> setOp(a, (x, y) -> {
      Set<Object> s = new LinkedHashSet<>(x);
      s.retainAll(y);
      return s;
    }));
    def("setsubtract", 2, 2, a -> setOp(a, (x, y) -> {
      Set<Object> s = new LinkedHashSet<>(x);
      s.removeAll(y);
      return s;
    }));
    def("sethaselement", 2, 2, a -> a.list(0).stream().anyMatch(v -> Values.equal(v, a.get(1))));
    def("setproduct", 1, ANY, a -> {
      List<Object> out = new ArrayList<>();
      out.add(new ArrayList<>());
      for (int i = 0; i < a.size(); i++) {
        List<Object> next = new ArrayList<>();
        for (Object prefix : out) {
          for (Object v : a.list(i)) {
            List<Object> row = new ArrayList<>((List<?>) prefix);
            row.add(v);
            next.add(row);
            if (next.size() > Evaluator.MAX_ELEMENTS) {
              throw a.error("more than " + Evaluator.MAX_ELEMENTS + " combinations");
            }
          }
        }
        out = next;
      }
      return out;
    });
    def("tolist", 1, 1, a -> a.list(0));
    def("toset", 1, 1, a -> new ArrayList<>(new LinkedHashSet<>(a.list(0))));
    def("tomap", 1, 1, a -> a.map(0));
    def("tostring", 1, 1, a -> a.get(0) == null ? null : a.string(0));
    def("tonumber", 1, 1, a -> a.get(0) == null ? null : a.number(0));
    def("tobool", 1, 1, a -> a.get(0) == null ? null : a.bool(0));
  }

  private interface SetOp {
    Set<Object> apply(List<Object> a, List<Object> b);
  }

  private static Object setOp(Args a, SetOp op) {
    List<Object> acc = a.list(0);
    for (int i = 1; i < a.size(); i++) {
      acc = new ArrayList<>(op.apply(acc, a.list(i)));
    }
    return new ArrayList<>(acc);
  }

  private static void flatten(List<?> list, List<Object> out, int depth, Args a) {
    if (depth > Evaluator.MAX_DEPTH) {
      throw a.error("nested too deeply");
    }
    for (Object v : list) {
      if (v instanceof List<?> inner) {
        flatten(inner, out, depth + 1, a);
      } else {
        out.add(v);
      }
    }
  }

  private static Pattern regex(Args a, String pattern) {
    try {
      return Pattern.compile(pattern.replace("(?P<", "(?<"));
    } catch (PatternSyntaxException e) {
      throw a.error("bad regular expression: " + e.getDescription());
    }
  }

  /** Go's {@code $1}/{@code ${name}} replacement syntax is Java's too; only a lone {@code $} differs. */
  private static String goReplacement(String replacement) {
    return replacement.replace("\\", "\\\\");
  }

  private static Object captures(Matcher m) {
    if (m.groupCount() == 0) {
      return m.group();
    }
    List<Object> groups = new ArrayList<>();
    for (int i = 1; i <= m.groupCount(); i++) {
      groups.add(m.group(i));
    }
    return groups;
  }

  private static String digest(String algorithm, String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is part of every JDK", e);
    }
  }

  private static String uuidv5(Args a) {
    String namespace = switch (a.string(0)) {
      case "dns" -> "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
      case "url" -> "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
      case "oid" -> "6ba7b812-9dad-11d1-80b4-00c04fd430c8";
      case "x500" -> "6ba7b814-9dad-11d1-80b4-00c04fd430c8";
      default -> a.string(0);
    };
    UUID ns;
    try {
      ns = UUID.fromString(namespace);
    } catch (IllegalArgumentException e) {
      throw a.error("namespace must be dns, url, oid, x500 or a UUID");
    }
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(16);
      buffer.putLong(ns.getMostSignificantBits()).putLong(ns.getLeastSignificantBits());
      sha1.update(buffer.array());
      byte[] hash = sha1.digest(a.string(1).getBytes(StandardCharsets.UTF_8));
      hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
      hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
      java.nio.ByteBuffer out = java.nio.ByteBuffer.wrap(hash, 0, 16);
      return new UUID(out.getLong(), out.getLong()).toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is part of every JDK", e);
    }
  }

  /** Go-style {@code format}: %s %d %f %v %q %t %x %%, with widths and precisions. */
  private static String format(Args a, String spec, List<Object> values) {
    StringBuilder out = new StringBuilder();
    int next = 0;
    Matcher m = Pattern.compile("%([-+ 0#]*)(\\d*)(?:\\.(\\d+))?([a-zA-Z%])").matcher(spec);
    int last = 0;
    while (m.find()) {
      out.append(spec, last, m.start());
      last = m.end();
      char verb = m.group(4).charAt(0);
      if (verb == '%') {
        out.append('%');
        continue;
      }
      if (next >= values.size()) {
        throw a.error("not enough arguments for the format \"" + spec + "\"");
      }
      Object value = values.get(next++);
      String flags = m.group(1);
      String width = m.group(2);
      String precision = m.group(3);
      String javaSpec = "%" + flags.replace("#", "") + width + (precision == null ? "" : "." + precision);
      out.append(switch (verb) {
        case 's' -> String.format(javaSpec + "s", Values.asString(value, a.pos(), "format() value"));
        case 'q' -> JsonText.write(Values.asString(value, a.pos(), "format() value"), false);
        case 'd' -> String.format(javaSpec.replaceAll("\\.\\d+", "") + "d",
            Values.asNumber(value, a.pos(), "format() value").toBigInteger());
        case 'f', 'e', 'g' -> String.format(javaSpec + verb, Values.asNumber(value, a.pos(), "format() value"));
        case 't' -> String.valueOf(Values.asBool(value, a.pos(), "format() value"));
        case 'x', 'X', 'o', 'b' -> {
          java.math.BigInteger n = Values.asNumber(value, a.pos(), "format() value").toBigInteger();
          String digits = n.toString(verb == 'o' ? 8 : verb == 'b' ? 2 : 16);
          yield verb == 'X' ? digits.toUpperCase(Locale.ROOT) : digits;
        }
        case 'v' -> value instanceof String || value instanceof BigDecimal || value instanceof Boolean
            ? Values.asString(value, a.pos(), "format() value") : JsonText.write(value, false);
        default -> throw a.error("unsupported format verb %" + verb);
      });
      if (out.length() > Evaluator.MAX_STRING) {
        throw a.error("the result is over the limit of " + Evaluator.MAX_STRING + " characters");
      }
    }
    out.append(spec.substring(last));
    return out.toString();
  }
}
