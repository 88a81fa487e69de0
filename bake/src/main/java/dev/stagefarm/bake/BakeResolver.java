package dev.stagefarm.bake;

import dev.stagefarm.bake.hcl.Body;
import dev.stagefarm.bake.hcl.Evaluator;
import dev.stagefarm.bake.hcl.Expr;
import dev.stagefarm.bake.hcl.HclException;
import dev.stagefarm.bake.hcl.Pos;
import dev.stagefarm.bake.hcl.Values;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Turns a {@link BakeDefinition} and the names asked for into resolved targets, the way buildx
 * does: groups expand to their targets (a group wins over a target of the same name), variables
 * take the environment's value over their default, a {@code matrix} forks a target, {@code
 * inherits} merges parents first (the last parent wins, the target itself over all), {@code --set}
 * overrides apply last, then the defaults ({@code context = "."}, {@code dockerfile =
 * "Dockerfile"}).
 *
 * <p>Limits: {@link #MAX_TARGETS} targets in all, {@link #MAX_MATRIX} variants per matrix, {@link
 * #MAX_INHERITS_DEPTH} levels of inherits; cycles in inherits, groups and variables fail naming the
 * cycle.
 */
public final class BakeResolver {
  public static final int MAX_TARGETS = 1000;
  public static final int MAX_MATRIX = 256;
  public static final int MAX_INHERITS_DEPTH = 32;

  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]+");

  /**
   * @param env the environment (variables' overrides)
   * @param overrides {@code --set} values, {@code PATTERN.KEY[.SUBKEY]=VALUE}
   * @param localPlatform {@code BAKE_LOCAL_PLATFORM}, e.g. {@code linux/amd64}
   */
  public record Options(Function<String, String> env, List<String> overrides, String localPlatform) {
    public Options {
      overrides = List.copyOf(overrides);
    }
  }

  /**
   * @param groups the groups to print: {@code default} (the names asked for), every group used,
   *     and each matrix target with its variants
   * @param targets the targets to build, in order
   */
  public record Result(Map<String, List<String>> groups, Map<String, BakeTarget> targets) {}

  private final BakeDefinition definition;
  private final Options options;
  private final Map<String, BakeDefinition.Variable> variables = new HashMap<>();
  private final Map<String, Object> variableValues = new HashMap<>();
  private final LinkedHashSet<String> resolvingVariables = new LinkedHashSet<>();
  private final Map<String, List<BakeDefinition.Group>> groupBlocks = new LinkedHashMap<>();
  private final Map<String, List<BakeDefinition.Target>> targetBlocks = new LinkedHashMap<>();
  private final Evaluator evaluator;
  private final Map<String, List<String>> printedGroups = new TreeMap<>();
  private final Map<String, BakeTarget> resolved = new LinkedHashMap<>();

  private BakeResolver(BakeDefinition definition, Options options) {
    this.definition = definition;
    this.options = options;
    for (BakeDefinition.Variable variable : definition.variables()) {
      variables.put(variable.name(), variable); // a later file's definition wins
    }
    Map<String, Evaluator.UserFunction> functions = new HashMap<>();
    for (Evaluator.UserFunction function : definition.functions()) {
      functions.put(function.name(), function);
    }
    for (BakeDefinition.Group group : definition.groups()) {
      groupBlocks.computeIfAbsent(group.name(), k -> new ArrayList<>()).add(group);
    }
    for (BakeDefinition.Target target : definition.targets()) {
      targetBlocks.computeIfAbsent(target.name(), k -> new ArrayList<>()).add(target);
    }
    this.evaluator = new Evaluator(this::variable, functions);
  }

  public static Result resolve(BakeDefinition definition, List<String> names, Options options) {
    BakeResolver resolver = new BakeResolver(definition, options);
    for (BakeDefinition.Variable variable : definition.variables()) {
      resolver.variable(variable.name(), variable.pos()); // validations run even for unused variables
    }
    return resolver.run(names);
  }

  private Result run(List<String> requested) {
    List<String> names = requested.isEmpty() ? List.of("default") : requested;
    if (requested.isEmpty() && !groupBlocks.containsKey("default") && !targetBlocks.containsKey("default")) {
      throw new HclException(null, "no target given and the bake file has no \"default\" group or target"
          + available());
    }
    List<String> toBuild = new ArrayList<>();
    for (String name : names) {
      expand(name, new LinkedHashSet<>(), toBuild);
    }
    printedGroups.put("default", List.copyOf(requested.isEmpty()
        ? printedGroups.getOrDefault("default", List.of("default")) : requested));
    Map<String, BakeTarget> targets = new LinkedHashMap<>();
    for (String name : toBuild) {
      targets.putIfAbsent(name, resolved.get(name));
    }
    List<BakeTarget> overridden = Overrides.apply(options.overrides(), new ArrayList<>(targets.values()));
    Map<String, BakeTarget> out = new LinkedHashMap<>();
    for (BakeTarget target : overridden) {
      out.put(target.name(), withDefaults(target));
    }
    return new Result(printedGroups, out);
  }

  private String available() {
    Set<String> all = new java.util.TreeSet<>(groupBlocks.keySet());
    all.addAll(targetBlocks.keySet());
    return all.isEmpty() ? " (it defines none)" : " (it defines: " + String.join(", ", all) + ")";
  }

  /** A name to the targets it builds: a group's members, a matrix target's variants, or itself. */
  private void expand(String name, LinkedHashSet<String> groupChain, List<String> out) {
    List<BakeDefinition.Group> groups = groupBlocks.get(name);
    if (groups != null) {
      if (!groupChain.add(name)) {
        throw new HclException(groups.get(0).pos(), "group cycle: " + String.join(" → ", groupChain) + " → " + name);
      }
      List<String> members = new ArrayList<>();
      for (BakeDefinition.Group group : groups) {
        Object value = evaluator.evaluate(group.targets().value(), Evaluator.Scope.EMPTY);
        for (Object member : Values.asList(value, group.targets().pos(), "targets")) {
          String memberName = Values.asString(member, group.targets().pos(), "a group member");
          if (!members.contains(memberName)) {
            members.add(memberName);
          }
        }
      }
      printedGroups.put(name, members);
      for (String member : members) {
        expand(member, groupChain, out);
      }
      groupChain.remove(name);
      return;
    }
    if (!targetBlocks.containsKey(name)) {
      throw new HclException(null, "no target or group named \"" + name + "\"" + available());
    }
    for (BakeTarget target : variants(name, new LinkedHashSet<>())) {
      if (!out.contains(target.name())) {
        out.add(target.name());
        if (out.size() > MAX_TARGETS) {
          throw new HclException(null, "more than " + MAX_TARGETS + " targets to build");
        }
      }
      resolved.putIfAbsent(target.name(), target);
    }
  }

  /** The target's variants: one per matrix combination, or the target itself. */
  private List<BakeTarget> variants(String name, LinkedHashSet<String> inheritChain) {
    List<BakeDefinition.Target> blocks = targetBlocks.get(name);
    Body.Attribute matrix = attribute(blocks, "matrix");
    if (matrix == null) {
      return List.of(target(name, blocks, Evaluator.Scope.EMPTY, name, inheritChain));
    }
    List<Map<String, Object>> combinations = combinations(name, matrix);
    Body.Attribute nameAttribute = attribute(blocks, "name");
    List<BakeTarget> out = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Map<String, Object> combination : combinations) {
      Evaluator.Scope scope = Evaluator.Scope.EMPTY.with(combination);
      String variant = nameAttribute == null ? defaultName(name, combination)
          : Values.asString(evaluator.evaluate(nameAttribute.value(), scope), nameAttribute.pos(), "name");
      if (!NAME.matcher(variant).matches()) {
        throw new HclException(nameAttribute == null ? matrix.pos() : nameAttribute.pos(), "target name \"" + variant
            + "\" may only have letters, digits, - and _ (use sanitize() in name)");
      }
      if (names.contains(variant)) {
        throw new HclException(nameAttribute == null ? matrix.pos() : nameAttribute.pos(), "the matrix of \"" + name
            + "\" makes the name \"" + variant + "\" twice; name must tell the variants apart");
      }
      names.add(variant);
      out.add(target(name, blocks, scope, variant, inheritChain));
    }
    printedGroups.put(name, names);
    return out;
  }

  private static String defaultName(String name, Map<String, Object> combination) {
    StringBuilder out = new StringBuilder(name);
    for (Object value : combination.values()) {
      out.append('-').append(value instanceof Map<?, ?> || value instanceof List<?>
          ? Integer.toHexString(value.hashCode()) : Values.asString(value, null, "a matrix value"));
    }
    return out.toString().replaceAll("[^a-zA-Z0-9_-]", "_");
  }

  private List<Map<String, Object>> combinations(String name, Body.Attribute matrix) {
    Object value = evaluator.evaluate(matrix.value(), Evaluator.Scope.EMPTY);
    Map<String, Object> axes = Values.asMap(value, matrix.pos(), "matrix");
    List<Map<String, Object>> out = new ArrayList<>();
    out.add(new LinkedHashMap<>());
    long size = 1;
    for (var axis : axes.entrySet()) {
      List<Object> values = Values.asList(axis.getValue(), matrix.pos(), "matrix value " + axis.getKey());
      size *= values.size();
      if (size > MAX_MATRIX) {
        throw new HclException(matrix.pos(), "the matrix of \"" + name + "\" makes more than " + MAX_MATRIX
            + " targets");
      }
      List<Map<String, Object>> next = new ArrayList<>();
      for (Map<String, Object> prefix : out) {
        for (Object v : values) {
          Map<String, Object> row = new LinkedHashMap<>(prefix);
          row.put(axis.getKey(), v);
          next.add(row);
        }
      }
      out = next;
    }
    return out;
  }

  private static Body.Attribute attribute(List<BakeDefinition.Target> blocks, String name) {
    Body.Attribute found = null;
    for (BakeDefinition.Target block : blocks) {
      for (Body.Attribute attribute : block.attributes()) {
        if (attribute.name().equals(name)) {
          found = attribute;
        }
      }
    }
    return found;
  }

  /** One target (or matrix variant): parents first, then each block's own attributes in file order. */
  private BakeTarget target(String name, List<BakeDefinition.Target> blocks, Evaluator.Scope scope, String resultName,
      LinkedHashSet<String> inheritChain) {
    if (!inheritChain.add(name)) {
      throw new HclException(blocks.get(0).pos(), "inherits cycle: " + String.join(" → ", inheritChain) + " → " + name);
    }
    if (inheritChain.size() > MAX_INHERITS_DEPTH) {
      throw new HclException(blocks.get(0).pos(), "inherits deeper than " + MAX_INHERITS_DEPTH + " levels");
    }
    Map<TargetAttribute, Object> values = new EnumMap<>(TargetAttribute.class);
    Body.Attribute inherits = attribute(blocks, "inherits");
    if (inherits != null) {
      Object parents = evaluator.evaluate(inherits.value(), scope);
      for (Object parent : Values.asList(parents, inherits.pos(), "inherits")) {
        String parentName = Values.asString(parent, inherits.pos(), "a parent in inherits");
        List<BakeDefinition.Target> parentBlocks = targetBlocks.get(parentName);
        if (parentBlocks == null) {
          throw new HclException(inherits.pos(), "target \"" + name + "\" inherits from \"" + parentName
              + "\", which is not a target" + available());
        }
        if (attribute(parentBlocks, "matrix") != null) {
          throw new HclException(inherits.pos(), "target \"" + name + "\" inherits from \"" + parentName
              + "\", which has a matrix; inherit from a target without one");
        }
        BakeTarget resolvedParent = target(parentName, parentBlocks, Evaluator.Scope.EMPTY, parentName, inheritChain);
        merge(values, resolvedParent.attributes());
      }
    }
    for (BakeDefinition.Target block : blocks) {
      Map<TargetAttribute, Object> own = new EnumMap<>(TargetAttribute.class);
      for (Body.Attribute attribute : block.attributes()) {
        switch (attribute.name()) {
          case "inherits", "matrix", "name" -> {}
          default -> {
            TargetAttribute known = TargetAttribute.byKey(attribute.name()).orElseThrow(() -> new HclException(
                attribute.pos(), "unknown target attribute \"" + attribute.name() + "\""));
            Object value = evaluator.evaluate(attribute.value(), scope);
            if (value != null) {
              own.put(known, typed(known, value, attribute.pos()));
            }
          }
        }
      }
      merge(values, own);
    }
    inheritChain.remove(name);
    return new BakeTarget(resultName, values);
  }

  /** Merges {@code later} into {@code into} by each attribute's rule. */
  @SuppressWarnings("unchecked")
  static void merge(Map<TargetAttribute, Object> into, Map<TargetAttribute, Object> later) {
    for (var e : later.entrySet()) {
      TargetAttribute attribute = e.getKey();
      Object earlier = into.get(attribute);
      Object value = e.getValue();
      if (earlier == null || attribute.merge() == TargetAttribute.Merge.REPLACE) {
        into.put(attribute, value);
      } else if (attribute.merge() == TargetAttribute.Merge.APPEND) {
        List<String> list = new ArrayList<>((List<String>) earlier);
        for (String item : (List<String>) value) {
          if (!list.contains(item)) {
            list.add(item);
          }
        }
        into.put(attribute, List.copyOf(list));
      } else {
        Map<String, String> map = new LinkedHashMap<>((Map<String, String>) earlier);
        map.putAll((Map<String, String>) value);
        into.put(attribute, java.util.Collections.unmodifiableMap(map));
      }
    }
  }

  /** A value in the attribute's kind: numbers and bools become strings where strings are wanted. */
  static Object typed(TargetAttribute attribute, Object value, Pos pos) {
    String what = "target attribute " + attribute.key();
    return switch (attribute.kind()) {
      case STRING -> Values.asString(value, pos, what);
      case BOOL -> value instanceof BigDecimal n ? n.signum() != 0 : Values.asBool(value, pos, what);
      case LIST -> {
        List<String> list = new ArrayList<>();
        for (Object item : Values.asList(value, pos, what)) {
          if (item != null) {
            list.add(Values.asString(item, pos, "an element of " + attribute.key()));
          }
        }
        yield List.copyOf(list);
      }
      case MAP -> {
        Map<String, String> map = new LinkedHashMap<>();
        for (var e : Values.asMap(value, pos, what).entrySet()) {
          map.put(e.getKey(), e.getValue() == null ? null : Values.asString(e.getValue(), pos, attribute.key() + "." + e.getKey()));
        }
        yield java.util.Collections.unmodifiableMap(map);
      }
    };
  }

  private static BakeTarget withDefaults(BakeTarget target) {
    Map<TargetAttribute, Object> values = target.copyOfAttributes();
    values.putIfAbsent(TargetAttribute.CONTEXT, ".");
    values.putIfAbsent(TargetAttribute.DOCKERFILE, "Dockerfile");
    return new BakeTarget(target.name(), values);
  }

  // ---- variables

  private Object variable(String name, Pos pos) {
    if (variableValues.containsKey(name)) {
      return variableValues.get(name);
    }
    BakeDefinition.Variable variable = variables.get(name);
    if (variable == null) {
      return builtin(name, pos);
    }
    if (!resolvingVariables.add(name)) {
      throw new HclException(variable.pos(), "variable cycle: " + String.join(" → ", resolvingVariables) + " → " + name);
    }
    try {
      Object defaultValue = variable.defaultValue() == null ? ""
          : evaluator.evaluate(variable.defaultValue(), Evaluator.Scope.EMPTY);
      String fromEnv = options.env().apply(name);
      Object value = fromEnv == null ? defaultValue : fromEnvironment(name, fromEnv, defaultValue, variable.pos());
      variableValues.put(name, value);
      validate(variable, value);
      return value;
    } finally {
      resolvingVariables.remove(name);
    }
  }

  /** An environment value, converted to the type of the default (as buildx does). */
  private static Object fromEnvironment(String name, String text, Object defaultValue, Pos pos) {
    return switch (defaultValue) {
      case Boolean b -> switch (text.toLowerCase(java.util.Locale.ROOT)) {
        case "true", "1", "t" -> true;
        case "false", "0", "f", "" -> false;
        default -> throw new HclException(pos, "variable " + name + " is a bool; the environment has \"" + text + "\"");
      };
      case BigDecimal n -> {
        try {
          yield new BigDecimal(text.strip());
        } catch (NumberFormatException e) {
          throw new HclException(pos, "variable " + name + " is a number; the environment has \"" + text + "\"");
        }
      }
      case List<?> l -> throw new HclException(pos, "variable " + name + " is a list; it cannot be set from the environment");
      case Map<?, ?> m -> throw new HclException(pos, "variable " + name + " is an object; it cannot be set from the environment");
      case null, default -> text;
    };
  }

  private void validate(BakeDefinition.Variable variable, Object value) {
    for (BakeDefinition.Validation validation : variable.validations()) {
      if (!Values.asBool(evaluator.evaluate(validation.condition(), Evaluator.Scope.EMPTY), validation.pos(),
          "the validation condition")) {
        String message = validation.errorMessage() == null ? "validation failed"
            : Values.asString(evaluator.evaluate(validation.errorMessage(), Evaluator.Scope.EMPTY), validation.pos(),
                "error_message");
        throw new HclException(validation.pos(), "variable " + variable.name() + " = " + dev.stagefarm.bake.hcl.JsonText.write(value, false)
            + ": " + message);
      }
    }
  }

  private Object builtin(String name, Pos pos) {
    return switch (name) {
      case "BAKE_LOCAL_PLATFORM" -> options.localPlatform();
      case "BAKE_CMD_CONTEXT" -> ".";
      case "target" -> throw new HclException(pos, "references to other targets' attributes (target.NAME.ATTR) are"
          + " not supported by stagefarm bake yet; use a variable or inherits");
      default -> throw new HclException(pos, "unknown variable \"" + name + "\"; declare it with variable \"" + name
          + "\" { default = … }");
    };
  }
}
