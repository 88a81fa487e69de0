package dev.stagefarm.bake.hcl;

import java.util.List;

/** An HCL native-syntax expression, unevaluated (bake evaluates lazily: matrix values, variables). */
public sealed interface Expr {
  Pos pos();

  /** A constant: null, Boolean, BigDecimal, String. */
  record Literal(Pos pos, Object value) implements Expr {}

  /** A quoted or heredoc template: literal strings and interpolated expressions, concatenated. */
  record Template(Pos pos, List<Expr> parts) implements Expr {}

  /** A bare name: a variable, a matrix value, a function parameter or a for-expression symbol. */
  record Variable(Pos pos, String name) implements Expr {}

  record GetAttr(Pos pos, Expr object, String name) implements Expr {}

  record Index(Pos pos, Expr collection, Expr key) implements Expr {}

  /** {@code name(args…)}; {@code expandLast} for {@code f(list...)}. */
  record Call(Pos pos, String name, List<Expr> args, boolean expandLast) implements Expr {}

  record Unary(Pos pos, String op, Expr operand) implements Expr {}

  record Binary(Pos pos, String op, Expr left, Expr right) implements Expr {}

  record Conditional(Pos pos, Expr condition, Expr whenTrue, Expr whenFalse) implements Expr {}

  record Tuple(Pos pos, List<Expr> items) implements Expr {}

  record ObjectCons(Pos pos, List<Item> items) implements Expr {
    public record Item(Expr key, Expr value) {}
  }

  /**
   * {@code [for k, v in coll : value if cond]} or {@code {for k, v in coll : key => value if cond}}.
   * {@code keyName} is null with one symbol; {@code keyExpr} is null for a tuple result.
   */
  record For(Pos pos, String keyName, String valueName, Expr collection, Expr keyExpr, Expr valueExpr, Expr condition,
      boolean grouping) implements Expr {}

  /** {@code coll[*].attr…} and {@code coll.*.attr…}: {@code each} applies to every element ({@link Variable} "·"). */
  record Splat(Pos pos, Expr collection, Expr each) implements Expr {}
}
