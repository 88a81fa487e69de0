package dev.stagefarm.bake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.bake.hcl.Body;
import dev.stagefarm.bake.hcl.Evaluator;
import dev.stagefarm.bake.hcl.Expr;
import dev.stagefarm.bake.hcl.HclException;
import dev.stagefarm.bake.hcl.HclParser;
import dev.stagefarm.bake.hcl.Pos;
import java.math.BigDecimal;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads one bake file, HCL or JSON (compose files: {@link ComposeFile}), into a {@link
 * BakeDefinition}. JSON follows HCL's JSON syntax as buildx reads it: strings are templates, so
 * {@code "${TAG}"} interpolates.
 */
public final class BakeFileReader {
  /** The largest bake file read (a hostile file is refused before it is parsed). */
  public static final int MAX_FILE_BYTES = 1 << 20;

  private BakeFileReader() {}

  /** The file's text, refused when too large or not UTF-8. */
  public static String text(String name, byte[] bytes) {
    if (bytes.length > MAX_FILE_BYTES) {
      throw new HclException(null, name + " is " + bytes.length + " bytes; bake files are limited to "
          + MAX_FILE_BYTES + " bytes");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new HclException(null, name + " is not UTF-8 text");
    }
  }

  public static BakeDefinition hcl(String name, String text) {
    return fromBody(HclParser.parse(name, text));
  }

  /** Top-level blocks: variable, function, group, target; top-level attributes are variables too (as in buildx). */
  static BakeDefinition fromBody(Body body) {
    List<BakeDefinition.Variable> variables = new ArrayList<>();
    List<Evaluator.UserFunction> functions = new ArrayList<>();
    List<BakeDefinition.Group> groups = new ArrayList<>();
    List<BakeDefinition.Target> targets = new ArrayList<>();
    for (Body.Attribute attribute : body.attributes()) {
      variables.add(new BakeDefinition.Variable(attribute.name(), attribute.value(), List.of(), attribute.pos()));
    }
    for (Body.Block block : body.blocks()) {
      if (block.labels().size() != 1) {
        throw new HclException(block.pos(), "a " + block.type() + " block needs one name, e.g. "
            + block.type() + " \"NAME\" { … }");
      }
      String name = block.labels().get(0);
      switch (block.type()) {
        case "variable" -> variables.add(variable(name, block));
        case "function" -> functions.add(function(name, block));
        case "group" -> groups.add(group(name, block));
        case "target" -> {
          if (!block.body().blocks().isEmpty()) {
            Body.Block nested = block.body().blocks().get(0);
            throw new HclException(nested.pos(), "a target has attributes only, not a \"" + nested.type() + "\" block");
          }
          targets.add(new BakeDefinition.Target(name, block.body().attributes(), block.pos()));
        }
        default -> throw new HclException(block.pos(), "unknown block type \"" + block.type()
            + "\" (bake files have variable, function, group and target blocks)");
      }
    }
    return new BakeDefinition(variables, functions, groups, targets);
  }

  private static BakeDefinition.Variable variable(String name, Body.Block block) {
    Expr defaultValue = null;
    for (Body.Attribute attribute : block.body().attributes()) {
      switch (attribute.name()) {
        case "default" -> defaultValue = attribute.value();
        case "description", "type" -> {} // documentation; bake converts by the default's type
        default -> throw new HclException(attribute.pos(), "unknown variable attribute \"" + attribute.name()
            + "\" (default, description)");
      }
    }
    List<BakeDefinition.Validation> validations = new ArrayList<>();
    for (Body.Block nested : block.body().blocks()) {
      if (!nested.type().equals("validation")) {
        throw new HclException(nested.pos(), "a variable has validation blocks only, not \"" + nested.type() + "\"");
      }
      Expr condition = null;
      Expr message = null;
      for (Body.Attribute attribute : nested.body().attributes()) {
        switch (attribute.name()) {
          case "condition" -> condition = attribute.value();
          case "error_message" -> message = attribute.value();
          default -> throw new HclException(attribute.pos(), "unknown validation attribute \"" + attribute.name()
              + "\" (condition, error_message)");
        }
      }
      if (condition == null) {
        throw new HclException(nested.pos(), "a validation block needs a condition");
      }
      validations.add(new BakeDefinition.Validation(condition, message, nested.pos()));
    }
    return new BakeDefinition.Variable(name, defaultValue, validations, block.pos());
  }

  private static Evaluator.UserFunction function(String name, Body.Block block) {
    List<String> params = null;
    String variadic = null;
    Expr result = null;
    for (Body.Attribute attribute : block.body().attributes()) {
      switch (attribute.name()) {
        case "params" -> params = names(attribute);
        case "variadic_params" -> {
          if (!(attribute.value() instanceof Expr.Variable v)) {
            throw new HclException(attribute.pos(), "variadic_params is one name, e.g. variadic_params = rest");
          }
          variadic = v.name();
        }
        case "result" -> result = attribute.value();
        default -> throw new HclException(attribute.pos(), "unknown function attribute \"" + attribute.name()
            + "\" (params, variadic_params, result)");
      }
    }
    if (params == null || result == null) {
      throw new HclException(block.pos(), "function \"" + name + "\" needs params and result");
    }
    return new Evaluator.UserFunction(name, params, variadic, result, block.pos());
  }

  /** {@code params = [a, b]}: bare names (HCL) or strings (JSON). */
  private static List<String> names(Body.Attribute attribute) {
    if (!(attribute.value() instanceof Expr.Tuple tuple)) {
      throw new HclException(attribute.pos(), "params is a list of names, e.g. params = [a, b]");
    }
    List<String> names = new ArrayList<>();
    for (Expr item : tuple.items()) {
      switch (item) {
        case Expr.Variable v -> names.add(v.name());
        case Expr.Literal l when l.value() instanceof String s -> names.add(s);
        default -> throw new HclException(item.pos(), "a parameter is a name");
      }
    }
    return names;
  }

  private static BakeDefinition.Group group(String name, Body.Block block) {
    Body.Attribute targets = null;
    for (Body.Attribute attribute : block.body().attributes()) {
      switch (attribute.name()) {
        case "targets" -> targets = attribute;
        case "description" -> {}
        default -> throw new HclException(attribute.pos(), "unknown group attribute \"" + attribute.name()
            + "\" (targets, description)");
      }
    }
    if (targets == null) {
      targets = new Body.Attribute(block.pos(), "targets", new Expr.Tuple(block.pos(), List.of()));
    }
    return new BakeDefinition.Group(name, targets, block.pos());
  }

  // ---- JSON

  private static final ObjectMapper JSON = new ObjectMapper();

  public static BakeDefinition json(String name, String text) {
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      var location = e.getLocation();
      throw new HclException(location == null ? new Pos(name, 1, 1)
          : new Pos(name, location.getLineNr(), location.getColumnNr()), "not JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new HclException(new Pos(name, 1, 1), "a JSON bake file is an object with variable, group and target");
    }
    List<Body.Attribute> attributes = new ArrayList<>();
    List<Body.Block> blocks = new ArrayList<>();
    for (Map.Entry<String, JsonNode> kind : root.properties()) {
      Pos pos = new Pos(name + "#/" + kind.getKey(), 1, 1);
      if (!kind.getValue().isObject()) {
        attributes.add(new Body.Attribute(pos, kind.getKey(), expression(name + "#/" + kind.getKey(), kind.getValue())));
        continue;
      }
      for (Map.Entry<String, JsonNode> entry : kind.getValue().properties()) {
        String where = name + "#/" + kind.getKey() + "/" + entry.getKey();
        if (!entry.getValue().isObject()) {
          throw new HclException(new Pos(where, 1, 1), "a " + kind.getKey() + " is an object of attributes");
        }
        List<Body.Attribute> inner = new ArrayList<>();
        for (Map.Entry<String, JsonNode> attribute : entry.getValue().properties()) {
          String at = where + "/" + attribute.getKey();
          Expr value = kind.getKey().equals("function") && attribute.getKey().equals("variadic_params")
              ? new Expr.Variable(new Pos(at, 1, 1), attribute.getValue().asText())
              : expression(at, attribute.getValue());
          inner.add(new Body.Attribute(new Pos(at, 1, 1), attribute.getKey(), value));
        }
        blocks.add(new Body.Block(new Pos(where, 1, 1), kind.getKey(), List.of(entry.getKey()), new Body(inner, List.of())));
      }
    }
    return fromBody(new Body(attributes, blocks));
  }

  /** A JSON value as an expression: strings are templates (a {@code result} string is an expression template). */
  private static Expr expression(String where, JsonNode node) {
    Pos pos = new Pos(where, 1, 1);
    if (node.isTextual()) {
      return HclParser.parseTemplate(where, node.textValue());
    }
    if (node.isArray()) {
      List<Expr> items = new ArrayList<>();
      int i = 0;
      for (JsonNode item : node) {
        items.add(expression(where + "/" + i++, item));
      }
      return new Expr.Tuple(pos, items);
    }
    if (node.isObject()) {
      List<Expr.ObjectCons.Item> items = new ArrayList<>();
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        items.add(new Expr.ObjectCons.Item(new Expr.Literal(pos, e.getKey()), expression(where + "/" + e.getKey(), e.getValue())));
      }
      return new Expr.ObjectCons(pos, items);
    }
    if (node.isNumber()) {
      return new Expr.Literal(pos, new BigDecimal(node.asText()));
    }
    if (node.isBoolean()) {
      return new Expr.Literal(pos, node.booleanValue());
    }
    return new Expr.Literal(pos, null);
  }
}
