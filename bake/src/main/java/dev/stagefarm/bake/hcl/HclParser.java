package dev.stagefarm.bake.hcl;

import dev.stagefarm.bake.hcl.HclLexer.Kind;
import dev.stagefarm.bake.hcl.HclLexer.Token;
import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A recursive-descent parser for HCL's native syntax (the subset bake files use: bodies, blocks,
 * attributes, and the whole expression language: templates, heredocs, operators, conditionals,
 * function calls, tuples, objects, for-expressions, splats). Errors name {@code file:line:col}.
 * Template directives ({@code %{if}}, {@code %{for}}) are not supported and say so.
 */
public final class HclParser {
  /** Deepest nesting of blocks and expressions; a hostile file cannot exhaust the stack. */
  public static final int MAX_DEPTH = 64;

  private final HclLexer lexer;
  /** Per bracket level: whether newlines are insignificant there (inside ( ) and [ ]). */
  private final Deque<Boolean> newlinesIgnored = new ArrayDeque<>();
  private Token current;
  private int depth;

  private HclParser(String file, String source) {
    this.lexer = new HclLexer(file, source);
    newlinesIgnored.push(false);
    advance();
  }

  /** Parses a whole file. */
  public static Body parse(String file, String source) {
    HclParser parser = new HclParser(file, source);
    Body body = parser.body();
    if (parser.current.kind() != Kind.EOF) {
      throw parser.unexpected("an attribute or a block");
    }
    return body;
  }

  /**
   * Parses {@code text} as a template (as a JSON bake file's strings are): literal text with
   * {@code ${…}} interpolations.
   */
  public static Expr parseTemplate(String file, String text) {
    HclParser parser = new HclParser(new HclLexer(file, text));
    return parser.template(Mode.RAW, null, false, new Pos(file, 1, 1));
  }

  private HclParser(HclLexer lexer) {
    this.lexer = lexer;
    newlinesIgnored.push(false);
  }

  private void advance() {
    do {
      current = lexer.next();
    } while (current.kind() == Kind.NEWLINE && newlinesIgnored.peek());
  }

  private HclException unexpected(String wanted) {
    return new HclException(current.pos(), "expected " + wanted + ", found " + current.describe());
  }

  private void expectPunct(String punct) {
    if (!current.is(punct)) {
      throw unexpected("\"" + punct + "\"");
    }
    advance();
  }

  private void enter(Pos pos) {
    if (++depth > MAX_DEPTH) {
      throw new HclException(pos, "nested too deeply (more than " + MAX_DEPTH + " levels)");
    }
  }

  private void skipNewlines() {
    while (current.kind() == Kind.NEWLINE) {
      advance();
    }
  }

  // ---- bodies

  private Body body() {
    List<Body.Attribute> attributes = new ArrayList<>();
    List<Body.Block> blocks = new ArrayList<>();
    Map<String, Pos> seen = new HashMap<>();
    while (true) {
      skipNewlines();
      if (current.kind() == Kind.EOF || current.is("}")) {
        return new Body(attributes, blocks);
      }
      if (current.kind() != Kind.IDENT) {
        throw unexpected("an attribute or a block");
      }
      Token name = current;
      advance();
      if (current.is("=")) {
        advance();
        Expr value = expression();
        Pos first = seen.putIfAbsent(name.text(), name.pos());
        if (first != null) {
          throw new HclException(name.pos(), "attribute \"" + name.text() + "\" is set twice in this block (first at "
              + first + ")");
        }
        attributes.add(new Body.Attribute(name.pos(), name.text(), value));
      } else {
        blocks.add(block(name));
      }
      if (current.kind() == Kind.NEWLINE) {
        advance();
      } else if (current.kind() != Kind.EOF && !current.is("}")) {
        throw unexpected("a newline after the " + (attributes.isEmpty() && !blocks.isEmpty() ? "block" : "attribute"));
      }
    }
  }

  private Body.Block block(Token type) {
    enter(type.pos());
    List<String> labels = new ArrayList<>();
    while (!current.is("{")) {
      if (current.kind() == Kind.IDENT) {
        labels.add(current.text());
        advance();
      } else if (current.kind() == Kind.QUOTE) {
        Pos pos = current.pos();
        Expr label = template(Mode.QUOTED, null, false, pos);
        if (!(label instanceof Expr.Literal literal)) {
          throw new HclException(pos, "a block label cannot contain ${…} interpolation");
        }
        labels.add((String) literal.value());
        advance();
      } else {
        throw unexpected("a block label or \"{\" (attributes are set with \"=\")");
      }
    }
    advance();
    Body body = body();
    if (!current.is("}")) {
      throw unexpected("\"}\" closing the " + type.text() + " block opened at " + type.pos());
    }
    advance();
    depth--;
    return new Body.Block(type.pos(), type.text(), labels, body);
  }

  // ---- expressions

  private Expr expression() {
    enter(current.pos());
    Expr condition = binary(0);
    if (current.is("?")) {
      Pos pos = current.pos();
      advance();
      Expr whenTrue = expression();
      expectPunct(":");
      Expr whenFalse = expression();
      condition = new Expr.Conditional(pos, condition, whenTrue, whenFalse);
    }
    depth--;
    return condition;
  }

  private static final List<List<String>> LEVELS = List.of(
      List.of("||"), List.of("&&"), List.of("==", "!="), List.of("<", ">", "<=", ">="), List.of("+", "-"),
      List.of("*", "/", "%"));

  private Expr binary(int level) {
    if (level == LEVELS.size()) {
      return unary();
    }
    Expr left = binary(level + 1);
    while (current.kind() == Kind.PUNCT && LEVELS.get(level).contains(current.text())) {
      Token op = current;
      advance();
      Expr right = binary(level + 1);
      left = new Expr.Binary(op.pos(), op.text(), left, right);
    }
    return left;
  }

  private Expr unary() {
    if (current.is("-") || current.is("!")) {
      Token op = current;
      advance();
      enter(op.pos());
      Expr operand = unary();
      depth--;
      return new Expr.Unary(op.pos(), op.text(), operand);
    }
    return postfix(primary());
  }

  private Expr postfix(Expr expr) {
    while (true) {
      if (current.is(".")) {
        Pos pos = current.pos();
        advance();
        if (current.kind() == Kind.IDENT) {
          expr = new Expr.GetAttr(pos, expr, current.text());
          advance();
        } else if (current.kind() == Kind.NUMBER) {
          expr = new Expr.Index(pos, expr, new Expr.Literal(current.pos(), new BigDecimal(current.text())));
          advance();
        } else if (current.is("*")) {
          advance();
          expr = new Expr.Splat(pos, expr, splatTail(new Expr.Variable(pos, "·"), true));
        } else {
          throw unexpected("an attribute name after \".\"");
        }
      } else if (current.is("[")) {
        Pos pos = current.pos();
        newlinesIgnored.push(true);
        advance();
        if (current.is("*")) {
          advance();
          newlinesIgnored.pop();
          if (!current.is("]")) {
            throw unexpected("\"]\" after \"[*\"");
          }
          advance();
          expr = new Expr.Splat(pos, expr, splatTail(new Expr.Variable(pos, "·"), false));
        } else {
          Expr key = expression();
          newlinesIgnored.pop();
          if (!current.is("]")) {
            throw unexpected("\"]\"");
          }
          advance();
          expr = new Expr.Index(pos, expr, key);
        }
      } else {
        return expr;
      }
    }
  }

  /** The traversal after a splat, applied to each element. */
  private Expr splatTail(Expr each, boolean attrOnly) {
    while (current.is(".") || (!attrOnly && current.is("["))) {
      if (current.is(".")) {
        Pos pos = current.pos();
        advance();
        if (current.kind() != Kind.IDENT) {
          throw unexpected("an attribute name after \".\"");
        }
        each = new Expr.GetAttr(pos, each, current.text());
        advance();
      } else {
        Pos pos = current.pos();
        newlinesIgnored.push(true);
        advance();
        Expr key = expression();
        newlinesIgnored.pop();
        if (!current.is("]")) {
          throw unexpected("\"]\"");
        }
        advance();
        each = new Expr.Index(pos, each, key);
      }
    }
    return each;
  }

  private Expr primary() {
    Token token = current;
    Pos pos = token.pos();
    switch (token.kind()) {
      case NUMBER -> {
        advance();
        return new Expr.Literal(pos, new BigDecimal(token.text()));
      }
      case QUOTE -> {
        Expr template = template(Mode.QUOTED, null, false, pos);
        advance();
        return template;
      }
      case HEREDOC -> {
        Expr template = template(Mode.HEREDOC, token.text(), token.strip(), pos);
        advance();
        return template;
      }
      case IDENT -> {
        advance();
        switch (token.text()) {
          case "true" -> {
            return new Expr.Literal(pos, Boolean.TRUE);
          }
          case "false" -> {
            return new Expr.Literal(pos, Boolean.FALSE);
          }
          case "null" -> {
            return new Expr.Literal(pos, null);
          }
          default -> {}
        }
        if (current.is("(")) {
          return call(token);
        }
        return new Expr.Variable(pos, token.text());
      }
      case PUNCT -> {
        switch (token.text()) {
          case "(" -> {
            newlinesIgnored.push(true);
            advance();
            Expr inner = expression();
            newlinesIgnored.pop();
            if (!current.is(")")) {
              throw unexpected("\")\"");
            }
            advance();
            return inner;
          }
          case "[" -> {
            return tuple(pos);
          }
          case "{" -> {
            return object(pos);
          }
          default -> {}
        }
      }
      default -> {}
    }
    throw unexpected("an expression");
  }

  private Expr call(Token name) {
    newlinesIgnored.push(true);
    advance(); // (
    List<Expr> args = new ArrayList<>();
    boolean expand = false;
    while (!current.is(")")) {
      args.add(expression());
      if (current.is("...")) {
        expand = true;
        advance();
        if (!current.is(")")) {
          throw unexpected("\")\" after \"...\"");
        }
        break;
      }
      if (current.is(",")) {
        advance();
      } else if (!current.is(")")) {
        throw unexpected("\",\" or \")\" in the arguments of " + name.text() + "()");
      }
    }
    newlinesIgnored.pop();
    advance();
    return new Expr.Call(name.pos(), name.text(), args, expand);
  }

  private Expr tuple(Pos pos) {
    enter(pos);
    newlinesIgnored.push(true);
    advance(); // [
    if (current.isIdent("for")) {
      Expr result = forExpr(pos, false);
      depth--;
      return result;
    }
    List<Expr> items = new ArrayList<>();
    while (!current.is("]")) {
      items.add(expression());
      if (current.is(",")) {
        advance();
      } else if (!current.is("]")) {
        throw unexpected("\",\" or \"]\"");
      }
    }
    newlinesIgnored.pop();
    advance();
    depth--;
    return new Expr.Tuple(pos, items);
  }

  private Expr object(Pos pos) {
    enter(pos);
    newlinesIgnored.push(false);
    advance(); // {
    skipNewlines();
    if (current.isIdent("for")) {
      newlinesIgnored.pop();
      newlinesIgnored.push(true);
      Expr result = forExpr(pos, true);
      depth--;
      return result;
    }
    List<Expr.ObjectCons.Item> items = new ArrayList<>();
    while (true) {
      skipNewlines();
      if (current.is("}")) {
        break;
      }
      Expr key = expression();
      if (key instanceof Expr.Variable variable) {
        key = new Expr.Literal(variable.pos(), variable.name()); // a bare name is the key itself, as in HCL
      }
      if (!current.is("=") && !current.is(":")) {
        throw unexpected("\"=\" or \":\" after an object key");
      }
      advance();
      Expr value = expression();
      items.add(new Expr.ObjectCons.Item(key, value));
      if (current.is(",")) {
        advance();
      } else if (current.kind() != Kind.NEWLINE && !current.is("}")) {
        throw unexpected("\",\", a newline or \"}\" after an object item");
      }
    }
    newlinesIgnored.pop();
    advance();
    depth--;
    return new Expr.ObjectCons(pos, items);
  }

  /** After {@code [for} or {@code {for}; newlines are ignored until the closing bracket. */
  private Expr forExpr(Pos pos, boolean object) {
    advance(); // for
    if (current.kind() != Kind.IDENT) {
      throw unexpected("a name after \"for\"");
    }
    String first = current.text();
    advance();
    String keyName = null;
    String valueName = first;
    if (current.is(",")) {
      advance();
      if (current.kind() != Kind.IDENT) {
        throw unexpected("a second name after \",\"");
      }
      keyName = first;
      valueName = current.text();
      advance();
    }
    if (!current.isIdent("in")) {
      throw unexpected("\"in\"");
    }
    advance();
    Expr collection = expression();
    expectPunct(":");
    Expr keyExpr = null;
    Expr valueExpr = expression();
    boolean grouping = false;
    if (object) {
      expectPunct("=>");
      keyExpr = valueExpr;
      valueExpr = expression();
      if (current.is("...")) {
        grouping = true;
        advance();
      }
    }
    Expr condition = null;
    if (current.isIdent("if")) {
      advance();
      condition = expression();
    }
    String close = object ? "}" : "]";
    newlinesIgnored.pop();
    if (!current.is(close)) {
      throw unexpected("\"" + close + "\" closing the for expression");
    }
    advance();
    return new Expr.For(pos, keyName, valueName, collection, keyExpr, valueExpr, condition, grouping);
  }

  // ---- templates

  private enum Mode { QUOTED, HEREDOC, RAW }

  /**
   * Reads template text from the lexer's position (after the opening quote or heredoc line) to its
   * end. Leaves the lexer after the template; the caller then advances to the next token.
   */
  private Expr template(Mode mode, String marker, boolean strip, Pos pos) {
    List<Expr> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    Pos literalPos = lexer.here();
    boolean lineStart = true;
    while (true) {
      if (mode == Mode.HEREDOC && lineStart) {
        if (lexer.atEnd()) {
          throw new HclException(pos, "heredoc <<" + marker + " is not closed (no line with " + marker + ")");
        }
        if (lexer.restOfLine().strip().equals(marker)) {
          int n = lexer.restOfLine().length();
          for (int i = 0; i < n; i++) {
            lexer.takeChar();
          }
          break;
        }
      }
      lineStart = false;
      int c = lexer.peekChar(0);
      if (c < 0) {
        if (mode == Mode.RAW) {
          break;
        }
        throw new HclException(pos, mode == Mode.QUOTED ? "string is not closed" : "heredoc is not closed");
      }
      if (mode == Mode.QUOTED && c == '"') {
        lexer.takeChar();
        break;
      }
      if (mode == Mode.QUOTED && c == '\n') {
        throw new HclException(pos, "string is not closed before the end of the line (use a heredoc for several lines)");
      }
      if (c == '$' && lexer.lookingAt("$${")) {
        lexer.takeChar();
        lexer.takeChar();
        lexer.takeChar();
        literal.append("${");
      } else if (c == '%' && lexer.lookingAt("%%{")) {
        lexer.takeChar();
        lexer.takeChar();
        lexer.takeChar();
        literal.append("%{");
      } else if (c == '$' && lexer.lookingAt("${")) {
        if (!literal.isEmpty()) {
          parts.add(new Expr.Literal(literalPos, literal.toString()));
          literal.setLength(0);
        }
        Pos interpolation = lexer.here();
        lexer.takeChar();
        lexer.takeChar();
        if (lexer.peekChar(0) == '~') {
          lexer.takeChar();
        }
        newlinesIgnored.push(true);
        advance();
        enter(interpolation);
        Expr inner = expression();
        depth--;
        newlinesIgnored.pop();
        if (current.is("~") || !current.is("}")) {
          throw new HclException(current.pos(), "expected \"}\" closing the ${ at " + interpolation + ", found "
              + current.describe());
        }
        parts.add(inner);
        literalPos = lexer.here();
      } else if (c == '%' && lexer.lookingAt("%{")) {
        throw new HclException(lexer.here(), "template directives (%{if}, %{for}) are not supported; use a"
            + " conditional or a for expression inside ${…}");
      } else if (mode == Mode.QUOTED && c == '\\') {
        escape(literal);
      } else {
        char taken = lexer.takeChar();
        literal.append(taken);
        if (taken == '\n') {
          lineStart = true;
        }
      }
    }
    if (!literal.isEmpty()) {
      parts.add(new Expr.Literal(literalPos, literal.toString()));
    }
    if (strip) {
      parts = stripIndent(parts);
    }
    if (parts.isEmpty()) {
      return new Expr.Literal(pos, "");
    }
    if (parts.size() == 1 && parts.get(0) instanceof Expr.Literal only) {
      return new Expr.Literal(pos, only.value());
    }
    return new Expr.Template(pos, parts);
  }

  private void escape(StringBuilder out) {
    Pos pos = lexer.here();
    lexer.takeChar();
    int c = lexer.peekChar(0);
    if (c < 0) {
      throw new HclException(pos, "string is not closed");
    }
    lexer.takeChar();
    switch (c) {
      case 'n' -> out.append('\n');
      case 'r' -> out.append('\r');
      case 't' -> out.append('\t');
      case '"' -> out.append('"');
      case '\\' -> out.append('\\');
      case 'u', 'U' -> {
        int digits = c == 'u' ? 4 : 8;
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < digits; i++) {
          int h = lexer.peekChar(0);
          if (h < 0 || Character.digit(h, 16) < 0) {
            throw new HclException(pos, "\\" + (char) c + " needs " + digits + " hex digits");
          }
          hex.append(lexer.takeChar());
        }
        int codePoint = Integer.parseInt(hex.toString(), 16);
        if (!Character.isValidCodePoint(codePoint)) {
          throw new HclException(pos, "\\" + (char) c + hex + " is not a valid code point");
        }
        out.appendCodePoint(codePoint);
      }
      default -> throw new HclException(pos, "unknown escape \\" + HclLexer.printable(c) + " in a string");
    }
  }

  /** {@code <<-}: removes the smallest indentation of the heredoc's lines from each of them. */
  private static List<Expr> stripIndent(List<Expr> parts) {
    int min = Integer.MAX_VALUE;
    boolean atLineStart = true;
    for (Expr part : parts) {
      if (part instanceof Expr.Literal literal) {
        String text = (String) literal.value();
        for (int i = 0; i < text.length(); i++) {
          if (atLineStart) {
            int indent = 0;
            while (i + indent < text.length() && (text.charAt(i + indent) == ' ' || text.charAt(i + indent) == '\t')) {
              indent++;
            }
            if (i + indent < text.length() && text.charAt(i + indent) != '\n') {
              min = Math.min(min, indent);
            }
            atLineStart = false;
          }
          if (text.charAt(i) == '\n') {
            atLineStart = true;
          }
        }
      } else {
        atLineStart = false;
      }
    }
    if (min == Integer.MAX_VALUE || min == 0) {
      return parts;
    }
    List<Expr> out = new ArrayList<>();
    atLineStart = true;
    for (Expr part : parts) {
      if (part instanceof Expr.Literal literal) {
        String text = (String) literal.value();
        StringBuilder stripped = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
          if (atLineStart) {
            int skip = 0;
            while (skip < min && i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
              i++;
              skip++;
            }
            atLineStart = false;
            if (i >= text.length()) {
              break;
            }
          }
          stripped.append(text.charAt(i));
          if (text.charAt(i) == '\n') {
            atLineStart = true;
          }
        }
        out.add(new Expr.Literal(literal.pos(), stripped.toString()));
      } else {
        out.add(part);
        atLineStart = false;
      }
    }
    return out;
  }
}
