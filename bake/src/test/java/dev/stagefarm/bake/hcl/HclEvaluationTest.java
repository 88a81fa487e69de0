package dev.stagefarm.bake.hcl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HclEvaluationTest {

  /** Evaluates {@code x = EXPR} with the globals given. */
  static Object eval(String expression, Map<String, Object> globals) {
    Body body = HclParser.parse("t.hcl", "x = " + expression + "\n");
    Evaluator evaluator = new Evaluator((name, pos) -> {
      if (!globals.containsKey(name)) {
        throw new HclException(pos, "unknown variable \"" + name + "\"");
      }
      return globals.get(name);
    }, Map.of());
    return evaluator.evaluate(body.attributes().get(0).value(), Evaluator.Scope.EMPTY);
  }

  static String text(String expression) {
    return JsonText.write(eval(expression, Map.of("v", "val", "n", BigDecimal.valueOf(3), "xs", List.of("a", "b"))), false);
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "1 + 2 * 3 | 7",
      "(1 + 2) * 3 | 9",
      "7 / 2 | 3.5",
      "7 % 4 | 3",
      "-n | -3",
      "n > 2 && !false | true",
      "n == 3 ? \"yes\" : \"no\" | `\"yes\"`",
      "\"a-${v}-${n}\" | `\"a-val-3\"`",
      "\"${n}\" | 3",
      "\"$${literal}\" | `\"${literal}\"`",
      "[1, \"two\", true, null] | `[1,\"two\",true,null]`",
      "{a = 1, \"b.c\" = 2} | `{\"a\":1,\"b.c\":2}`",
      "xs[1] | `\"b\"`",
      "{k = {j = \"deep\"}}.k.j | `\"deep\"`",
      "[for x in xs : upper(x)] | `[\"A\",\"B\"]`",
      "[for i, x in xs : \"${i}${x}\" if x != \"a\"] | `[\"1b\"]`",
      "{for x in xs : x => \"v-${x}\"} | `{\"a\":\"v-a\",\"b\":\"v-b\"}`",
      "{for x in [\"a\", \"a\", \"b\"] : x => x...} | `{\"a\":[\"a\",\"a\"],\"b\":[\"b\"]}`",
      "[{n = 1}, {n = 2}][*].n | `[1,2]`",
      "join(\",\", xs) | `\"a,b\"`",
      "concat(xs, [\"c\"]) | `[\"a\",\"b\",\"c\"]`",
      "format(\"%s-%03d\", v, 7) | `\"val-007\"`",
      "replace(\"1.0.2\", \".\", \"-\") | `\"1-0-2\"`",
      "regex_replace(\"v1.2\", \"[^0-9]\", \"\") | `\"12\"`",
      "split(\"/\", \"linux/arm64\")[1] | `\"arm64\"`",
      "length(xs) + length(\"héllo\") | 7",
      "lookup({a = 1}, \"b\", \"none\") | `\"none\"`",
      "merge({a = 1}, {b = 2}) | `{\"a\":1,\"b\":2}`",
      "try(xs[5], \"fallback\") | `\"fallback\"`",
      "can(xs[5]) | false",
      "sanitize(\"a/b:c\") | `\"a_b_c\"`",
      "trimprefix(\"v1.2\", \"v\") | `\"1.2\"`",
      "sha256(\"\") | `\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"`",
      "jsondecode(\"{\\\"a\\\": [1]}\").a[0] | 1",
      "jsonencode({a = [1, \"<\"]}) | `\"{\\\"a\\\":[1,\\\"\\\\u003c\\\"]}\"`",
      "range(3) | `[0,1,2]`",
      "flatten([[1], [[2]], 3]) | `[1,2,3]`",
      "distinct([1, 1, 2]) | `[1,2]`",
      "coalesce(\"\", null, \"x\") | `\"x\"`",
      "max(1, 5, 3) | 5",
      "setproduct([\"a\"], [1, 2]) | `[[\"a\",1],[\"a\",2]]`",
      "substr(\"hello\", 1, 3) | `\"ell\"`",
      "upper(title(\"ab cd\")) | `\"AB CD\"`",
  })
  void evaluates(String expression, String json) {
    assertThat(text(expression)).isEqualTo(json);
  }

  @Test
  void aHeredocInterpolatesAndStripsIndentation() {
    Body body = HclParser.parse("t.hcl", "x = <<-EOT\n    FROM ${base}\n      RUN echo\n    EOT\n");
    Evaluator evaluator = new Evaluator((name, pos) -> "busybox", Map.of());

    assertThat(evaluator.evaluate(body.attributes().get(0).value(), Evaluator.Scope.EMPTY))
        .isEqualTo("FROM busybox\n  RUN echo\n");
  }

  @Test
  void userFunctionsCallEachOtherAndTakeVariadicArguments() {
    Body body = HclParser.parse("t.hcl", "x = twice(total(1, 2, 3))\n");
    Evaluator evaluator = new Evaluator((name, pos) -> null, Map.of(
        "twice", new Evaluator.UserFunction("twice", List.of("n"), null, HclParser.parse("f", "r = n * 2\n").attributes().get(0).value(), null),
        "total", new Evaluator.UserFunction("total", List.of(), "ns", HclParser.parse("f", "r = length(ns)\n").attributes().get(0).value(), null)));

    assertThat(evaluator.evaluate(body.attributes().get(0).value(), Evaluator.Scope.EMPTY))
        .isEqualTo(new BigDecimal(6));
  }

  @Test
  void aFunctionThatCallsItselfForeverStopsAtTheDepthLimit() {
    Expr recurse = HclParser.parse("f.hcl", "r = loop(n + 1)\n").attributes().get(0).value();
    Evaluator evaluator = new Evaluator((name, pos) -> null,
        Map.of("loop", new Evaluator.UserFunction("loop", List.of("n"), null, recurse, null)));
    Expr call = HclParser.parse("t.hcl", "x = loop(0)\n").attributes().get(0).value();

    assertThatThrownBy(() -> evaluator.evaluate(call, Evaluator.Scope.EMPTY))
        .isInstanceOf(HclException.class)
        .hasMessageContaining("evaluation nested too deeply");
  }

  @Test
  void aStringThatDoublesPastTheLimitIsRefused() {
    assertThatThrownBy(() -> eval("format(\"%s%s\", big, big)", Map.of("big", "x".repeat(Evaluator.MAX_STRING / 2 + 1))))
        .isInstanceOf(HclException.class)
        .hasMessageContaining("over the limit of " + Evaluator.MAX_STRING);
  }

  @Test
  void aHugeRangeIsRefused() {
    assertThatThrownBy(() -> eval("range(1000000000)", Map.of()))
        .hasMessageContaining("range(): more than " + Evaluator.MAX_ELEMENTS + " elements");
  }

  @Test
  void typeErrorsNameTheirPlace() {
    assertThatThrownBy(() -> eval("1 + \"a\"", Map.of()))
        .hasMessageStartingWith("t.hcl:1:7: the right side of + \"a\" is not a number");
    assertThatThrownBy(() -> eval("[1][3]", Map.of())).hasMessageContaining("index 3 is out of range");
    assertThatThrownBy(() -> eval("nope(1)", Map.of())).hasMessageContaining("there is no function named \"nope\"");
  }
}
