package dev.stagefarm.bake.hcl;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Evaluates {@link Expr}s. Global names (bake variables) come from a {@link Globals} the caller
 * gives, resolved lazily so that variables can refer to each other; functions are the built-ins of
 * {@link Functions} and the file's user functions. Limits keep hostile input bounded: evaluation
 * depth (deep recursion through user functions), string length and collection size.
 */
public final class Evaluator {
  public static final int MAX_DEPTH = 256;
  public static final int MAX_STRING = 1 << 20;
  public static final int MAX_ELEMENTS = 10_000;

  /** Names every expression can see (bake variables). */
  public interface Globals {
    /** @throws HclException when {@code name} is not defined */
    Object resolve(String name, Pos pos);
  }

  /** {@code function "name" { params = [a, b] variadic_params = rest result = … }}. */
  public record UserFunction(String name, List<String> params, String variadic, Expr result, Pos pos) {}

  /** Local names: for-expression symbols, function parameters, matrix values. */
  public record Scope(Map<String, Object> names, Scope parent) {
    public static final Scope EMPTY = new Scope(Map.of(), null);

    public Scope with(Map<String, Object> more) {
      return new Scope(more, this);
    }

    boolean has(String name) {
      for (Scope s = this; s != null; s = s.parent) {
        if (s.names.containsKey(name)) {
          return true;
        }
      }
      return false;
    }

    Object get(String name) {
      for (Scope s = this; s != null; s = s.parent) {
        if (s.names.containsKey(name)) {
          return s.names.get(name);
        }
      }
      return null;
    }
  }

  private final Globals globals;
  private final Map<String, UserFunction> userFunctions;
  private int depth;

  public Evaluator(Globals globals, Map<String, UserFunction> userFunctions) {
    this.globals = globals;
    this.userFunctions = Map.copyOf(userFunctions);
  }

  public Object evaluate(Expr expr, Scope scope) {
    if (++depth > MAX_DEPTH) {
      depth = 0;
      throw new HclException(expr.pos(), "evaluation nested too deeply (more than " + MAX_DEPTH
          + " levels; a function or variable that calls itself?)");
    }
    try {
      return checked(expr.pos(), eval(expr, scope));
    } finally {
      depth = Math.max(0, depth - 1);
    }
  }

  private static Object checked(Pos pos, Object value) {
    if (value instanceof String s && s.length() > MAX_STRING) {
      throw new HclException(pos, "a string of " + s.length() + " characters is over the limit of " + MAX_STRING);
    }
    if (value instanceof List<?> l && l.size() > MAX_ELEMENTS) {
      throw new HclException(pos, "a list of " + l.size() + " elements is over the limit of " + MAX_ELEMENTS);
    }
    if (value instanceof Map<?, ?> m && m.size() > MAX_ELEMENTS) {
      throw new HclException(pos, "an object of " + m.size() + " attributes is over the limit of " + MAX_ELEMENTS);
    }
    return value;
  }

  private Object eval(Expr expr, Scope scope) {
    return switch (expr) {
      case Expr.Literal l -> l.value();
      case Expr.Template t -> template(t, scope);
      case Expr.Variable v -> scope.has(v.name()) ? scope.get(v.name()) : globals.resolve(v.name(), v.pos());
      case Expr.GetAttr g -> getAttr(evaluate(g.object(), scope), g.name(), g.pos());
      case Expr.Index i -> index(evaluate(i.collection(), scope), evaluate(i.key(), scope), i.pos());
      case Expr.Call c -> call(c, scope);
      case Expr.Unary u -> unary(u, scope);
      case Expr.Binary b -> binary(b, scope);
      case Expr.Conditional c -> Values.asBool(evaluate(c.condition(), scope), c.pos(), "the condition")
          ? evaluate(c.whenTrue(), scope)
          : evaluate(c.whenFalse(), scope);
      case Expr.Tuple t -> {
        List<Object> items = new ArrayList<>();
        for (Expr item : t.items()) {
          items.add(evaluate(item, scope));
        }
        yield items;
      }
      case Expr.ObjectCons o -> {
        Map<String, Object> map = new LinkedHashMap<>();
        for (Expr.ObjectCons.Item item : o.items()) {
          map.put(Values.asString(evaluate(item.key(), scope), item.key().pos(), "an object key"),
              evaluate(item.value(), scope));
        }
        yield map;
      }
      case Expr.For f -> forExpr(f, scope);
      case Expr.Splat s -> splat(s, scope);
    };
  }

  private Object template(Expr.Template t, Scope scope) {
    if (t.parts().size() == 1) {
      return evaluate(t.parts().get(0), scope); // "${x}" is x itself, as in HCL
    }
    StringBuilder out = new StringBuilder();
    for (Expr part : t.parts()) {
      out.append(Values.asString(evaluate(part, scope), part.pos(), "the interpolated value"));
      if (out.length() > MAX_STRING) {
        throw new HclException(t.pos(), "a string over the limit of " + MAX_STRING + " characters");
      }
    }
    return out.toString();
  }

  private static Object getAttr(Object object, String name, Pos pos) {
    if (object instanceof Map<?, ?> map) {
      if (!map.containsKey(name)) {
        throw new HclException(pos, "the object has no attribute \"" + name + "\"");
      }
      return map.get(name);
    }
    throw new HclException(pos, "cannot read attribute \"" + name + "\" of a " + Values.typeName(object));
  }

  static Object index(Object collection, Object key, Pos pos) {
    if (collection instanceof List<?> list) {
      BigDecimal n = Values.asNumber(key, pos, "the index");
      int i;
      try {
        i = n.intValueExact();
      } catch (ArithmeticException e) {
        throw new HclException(pos, "index " + Values.format(n) + " is not a whole number");
      }
      if (i < 0 || i >= list.size()) {
        throw new HclException(pos, "index " + i + " is out of range (the list has " + list.size() + " elements)");
      }
      return list.get(i);
    }
    if (collection instanceof Map<?, ?> map) {
      String k = Values.asString(key, pos, "the key");
      if (!map.containsKey(k)) {
        throw new HclException(pos, "the object has no element \"" + k + "\"");
      }
      return map.get(k);
    }
    throw new HclException(pos, "cannot index a " + Values.typeName(collection));
  }

  private Object call(Expr.Call c, Scope scope) {
    switch (c.name()) {
      case "try" -> {
        HclException last = null;
        for (Expr arg : c.args()) {
          try {
            return evaluate(arg, scope);
          } catch (HclException e) {
            last = e;
          }
        }
        throw new HclException(c.pos(), "try(): no argument could be evaluated"
            + (last == null ? "" : "; the last: " + last.getMessage()));
      }
      case "can" -> {
        if (c.args().size() != 1) {
          throw new HclException(c.pos(), "can() takes one argument");
        }
        try {
          evaluate(c.args().get(0), scope);
          return true;
        } catch (HclException e) {
          return false;
        }
      }
      default -> {}
    }
    List<Object> args = new ArrayList<>();
    for (Expr arg : c.args()) {
      args.add(evaluate(arg, scope));
    }
    if (c.expandLast() && !args.isEmpty()) {
      Object last = args.remove(args.size() - 1);
      args.addAll(Values.asList(last, c.pos(), "the argument expanded with ..."));
    }
    UserFunction user = userFunctions.get(c.name());
    if (user != null) {
      return callUser(user, args, c.pos());
    }
    return Functions.call(c.name(), args, c.pos());
  }

  private Object callUser(UserFunction f, List<Object> args, Pos pos) {
    if (args.size() < f.params().size() || (f.variadic() == null && args.size() > f.params().size())) {
      throw new HclException(pos, f.name() + "() takes " + f.params().size()
          + (f.variadic() == null ? "" : " or more") + " arguments, got " + args.size());
    }
    Map<String, Object> names = new LinkedHashMap<>();
    for (int i = 0; i < f.params().size(); i++) {
      names.put(f.params().get(i), args.get(i));
    }
    if (f.variadic() != null) {
      names.put(f.variadic(), new ArrayList<>(args.subList(f.params().size(), args.size())));
    }
    return evaluate(f.result(), new Scope(names, null));
  }

  private Object unary(Expr.Unary u, Scope scope) {
    Object value = evaluate(u.operand(), scope);
    return u.op().equals("-")
        ? Values.asNumber(value, u.pos(), "the operand of -").negate()
        : !Values.asBool(value, u.pos(), "the operand of !");
  }

  private Object binary(Expr.Binary b, Scope scope) {
    String op = b.op();
    if (op.equals("&&") || op.equals("||")) {
      boolean left = Values.asBool(evaluate(b.left(), scope), b.pos(), "the left side of " + op);
      if (op.equals("&&") ? !left : left) {
        return left;
      }
      return Values.asBool(evaluate(b.right(), scope), b.pos(), "the right side of " + op);
    }
    Object left = evaluate(b.left(), scope);
    Object right = evaluate(b.right(), scope);
    if (op.equals("==")) {
      return Values.equal(left, right);
    }
    if (op.equals("!=")) {
      return !Values.equal(left, right);
    }
    BigDecimal x = Values.asNumber(left, b.pos(), "the left side of " + op);
    BigDecimal y = Values.asNumber(right, b.pos(), "the right side of " + op);
    return switch (op) {
      case "+" -> x.add(y, MathContext.DECIMAL128);
      case "-" -> x.subtract(y, MathContext.DECIMAL128);
      case "*" -> x.multiply(y, MathContext.DECIMAL128);
      case "/" -> {
        if (y.signum() == 0) {
          throw new HclException(b.pos(), "division by zero");
        }
        yield x.divide(y, MathContext.DECIMAL128);
      }
      case "%" -> {
        if (y.signum() == 0) {
          throw new HclException(b.pos(), "modulo by zero");
        }
        yield x.remainder(y, MathContext.DECIMAL128);
      }
      case "<" -> x.compareTo(y) < 0;
      case ">" -> x.compareTo(y) > 0;
      case "<=" -> x.compareTo(y) <= 0;
      case ">=" -> x.compareTo(y) >= 0;
      default -> throw new HclException(b.pos(), "unknown operator " + op);
    };
  }

  private Object forExpr(Expr.For f, Scope scope) {
    Object collection = evaluate(f.collection(), scope);
    Map<Object, Object> entries = new LinkedHashMap<>();
    if (collection instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        entries.put(BigDecimal.valueOf(i), list.get(i));
      }
    } else if (collection instanceof Map<?, ?> map) {
      new TreeMap<>(map).forEach(entries::put); // cty iterates objects in key order
    } else {
      throw new HclException(f.collection().pos(), "a for expression needs a list or an object, not a "
          + Values.typeName(collection));
    }
    List<Object> tuple = new ArrayList<>();
    Map<String, Object> object = new LinkedHashMap<>();
    for (var entry : entries.entrySet()) {
      Map<String, Object> names = new LinkedHashMap<>();
      names.put(f.valueName(), entry.getValue());
      if (f.keyName() != null) {
        names.put(f.keyName(), entry.getKey());
      }
      Scope inner = scope.with(names);
      if (f.condition() != null && !Values.asBool(evaluate(f.condition(), inner), f.condition().pos(), "the if condition")) {
        continue;
      }
      Object value = evaluate(f.valueExpr(), inner);
      if (f.keyExpr() == null) {
        tuple.add(value);
      } else {
        String key = Values.asString(evaluate(f.keyExpr(), inner), f.keyExpr().pos(), "the key");
        if (f.grouping()) {
          @SuppressWarnings("unchecked")
          List<Object> group = (List<Object>) object.computeIfAbsent(key, k -> new ArrayList<>());
          group.add(value);
        } else if (object.putIfAbsent(key, value) != null) {
          throw new HclException(f.keyExpr().pos(), "the for expression makes key \"" + key
              + "\" twice (add ... after the value to group them)");
        }
      }
      if (tuple.size() > MAX_ELEMENTS || object.size() > MAX_ELEMENTS) {
        throw new HclException(f.pos(), "a for expression over the limit of " + MAX_ELEMENTS + " elements");
      }
    }
    return f.keyExpr() == null ? tuple : object;
  }

  private Object splat(Expr.Splat s, Scope scope) {
    Object collection = evaluate(s.collection(), scope);
    if (collection == null) {
      return List.of();
    }
    List<?> items = collection instanceof List<?> l ? l : List.of(collection);
    List<Object> out = new ArrayList<>();
    for (Object item : items) {
      Map<String, Object> element = new LinkedHashMap<>();
      element.put("·", item);
      out.add(evaluate(s.each(), scope.with(element)));
    }
    return out;
  }
}
