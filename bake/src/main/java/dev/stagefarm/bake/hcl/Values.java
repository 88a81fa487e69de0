package dev.stagefarm.bake.hcl;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * HCL values as plain Java: {@code null}, {@link Boolean}, {@link BigDecimal}, {@link String},
 * {@link List} (tuples, lists, sets) and {@link Map} with string keys in order (objects, maps); the
 * conversions between them follow cty's (a number or bool becomes a string where one is wanted,
 * and a numeric or boolean string the other way round).
 */
public final class Values {
  private Values() {}

  public static String typeName(Object value) {
    return switch (value) {
      case null -> "null";
      case Boolean b -> "bool";
      case BigDecimal n -> "number";
      case String s -> "string";
      case List<?> l -> "list";
      case Map<?, ?> m -> "object";
      default -> value.getClass().getSimpleName();
    };
  }

  public static String asString(Object value, Pos pos, String what) {
    return switch (value) {
      case String s -> s;
      case BigDecimal n -> format(n);
      case Boolean b -> b.toString();
      case null -> throw new HclException(pos, what + " is null, a string is needed");
      default -> throw new HclException(pos, what + " is a " + typeName(value) + ", a string is needed");
    };
  }

  public static BigDecimal asNumber(Object value, Pos pos, String what) {
    if (value instanceof BigDecimal n) {
      return n;
    }
    if (value instanceof String s) {
      try {
        return new BigDecimal(s.strip());
      } catch (NumberFormatException e) {
        throw new HclException(pos, what + " \"" + s + "\" is not a number");
      }
    }
    throw new HclException(pos, what + " is a " + typeName(value) + ", a number is needed");
  }

  public static boolean asBool(Object value, Pos pos, String what) {
    if (value instanceof Boolean b) {
      return b;
    }
    if (value instanceof String s && (s.equals("true") || s.equals("false"))) {
      return Boolean.parseBoolean(s);
    }
    throw new HclException(pos, what + " is a " + typeName(value) + ", a bool is needed");
  }

  @SuppressWarnings("unchecked")
  public static List<Object> asList(Object value, Pos pos, String what) {
    if (value instanceof List<?> l) {
      return (List<Object>) l;
    }
    throw new HclException(pos, what + " is a " + typeName(value) + ", a list is needed");
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> asMap(Object value, Pos pos, String what) {
    if (value instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw new HclException(pos, what + " is a " + typeName(value) + ", an object is needed");
  }

  /** A number as HCL prints it: no exponent, no trailing zeros ({@code 124}, {@code 1.5}). */
  public static String format(BigDecimal n) {
    BigDecimal stripped = n.stripTrailingZeros();
    return stripped.scale() < 0 ? stripped.setScale(0).toPlainString() : stripped.toPlainString();
  }

  /** Equality as HCL's {@code ==}: numbers by value, collections element by element. */
  public static boolean equal(Object a, Object b) {
    if (a instanceof BigDecimal x && b instanceof BigDecimal y) {
      return x.compareTo(y) == 0;
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!equal(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (!x.keySet().equals(y.keySet())) {
        return false;
      }
      for (var e : x.entrySet()) {
        if (!equal(e.getValue(), y.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return a == null ? b == null : a.equals(b);
  }
}
