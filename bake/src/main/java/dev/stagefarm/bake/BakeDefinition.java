package dev.stagefarm.bake;

import dev.stagefarm.bake.hcl.Body;
import dev.stagefarm.bake.hcl.Evaluator;
import dev.stagefarm.bake.hcl.Expr;
import dev.stagefarm.bake.hcl.Pos;
import java.util.ArrayList;
import java.util.List;

/**
 * What bake files declare, unevaluated (target attributes depend on matrix values and variables
 * that the environment may override), in file order; several files are simply concatenated.
 */
public record BakeDefinition(
    List<Variable> variables, List<Evaluator.UserFunction> functions, List<Group> groups, List<Target> targets) {

  public BakeDefinition {
    variables = List.copyOf(variables);
    functions = List.copyOf(functions);
    groups = List.copyOf(groups);
    targets = List.copyOf(targets);
  }

  /** {@code variable "NAME" { default = … }}; {@code defaultValue} null when there is no default. */
  public record Variable(String name, Expr defaultValue, List<Validation> validations, Pos pos) {}

  /** {@code validation { condition = … error_message = … }} of a variable. */
  public record Validation(Expr condition, Expr errorMessage, Pos pos) {}

  public record Group(String name, Body.Attribute targets, Pos pos) {}

  /** One {@code target} block; a name may have several (in several files), merged in order. */
  public record Target(String name, List<Body.Attribute> attributes, Pos pos) {}

  public static BakeDefinition concat(List<BakeDefinition> parts) {
    List<Variable> variables = new ArrayList<>();
    List<Evaluator.UserFunction> functions = new ArrayList<>();
    List<Group> groups = new ArrayList<>();
    List<Target> targets = new ArrayList<>();
    for (BakeDefinition part : parts) {
      variables.addAll(part.variables);
      functions.addAll(part.functions);
      groups.addAll(part.groups);
      targets.addAll(part.targets);
    }
    return new BakeDefinition(variables, functions, groups, targets);
  }
}
