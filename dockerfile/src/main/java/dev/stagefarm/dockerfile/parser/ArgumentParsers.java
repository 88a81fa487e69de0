package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.internal.GoText;

import java.util.ArrayList;
import java.util.List;

/**
 * BuildKit's line parsers ({@code line_parsers.go}): how each keyword's arguments become the
 * argument chain of its node. Keywords BuildKit does not know get one empty node, so that the
 * instruction layer can reject them with the line.
 */
final class ArgumentParsers {

  static final String NOT_STRING_ARRAY =
      "when using JSON array syntax, arrays must be comprised of strings only";

  /** The argument chain of an instruction and whether it was written in JSON form. */
  record Parsed(Node first, boolean json) {
    static final Parsed NONE = new Parsed(null, false);
  }

  private ArgumentParsers() {}

  /** The argument chain of one instruction; {@code depth} counts enclosing ONBUILDs. */
  static Parsed parse(String keyword, String args, int escape, int depth) throws SyntaxProblem {
    return switch (GoText.toLower(keyword)) {
      case "add", "copy", "volume" -> maybeJsonToList(args);
      case "arg" -> nameOrNameValue(args, escape);
      case "cmd", "entrypoint", "run", "shell" -> maybeJson(args);
      case "env" -> nameValue(args, "ENV", escape);
      case "label" -> nameValue(args, "LABEL", escape);
      case "expose", "from" -> new Parsed(whitespaceDelimited(args), false);
      case "healthcheck" -> healthConfig(args);
      case "maintainer", "stopsignal", "user", "workdir" ->
          new Parsed(args.isEmpty() ? null : new Node(args), false);
      case "onbuild" -> subCommand(args, escape, depth);
      default -> new Parsed(new Node(""), false);
    };
  }

  /** ONBUILD: a value-less node whose one child is the parsed trigger instruction. */
  private static Parsed subCommand(String rest, int escape, int depth) throws SyntaxProblem {
    if (rest.isEmpty()) {
      return Parsed.NONE;
    }
    Node wrapper = new Node("");
    wrapper.addChild(InstructionBuilder.build(rest, escape, List.of(), depth + 1));
    return new Parsed(wrapper, false);
  }

  /**
   * {@code parseWords}: splits on whitespace outside quotes, keeping quotes and escapes in the
   * words (they are only used to find word boundaries; the instruction layer unquotes).
   */
  static List<String> parseWords(String rest, int escape) {
    final int spaces = 0;
    final int inWord = 1;
    final int inQuote = 2;
    List<String> words = new ArrayList<>();
    int phase = spaces;
    int quote = 0;
    boolean blankOk = false;
    StringBuilder word = new StringBuilder();
    int len = rest.length();
    int ch = 0;
    int width = 0;
    for (int pos = 0; pos <= len; pos += width) {
      if (pos != len) {
        ch = rest.codePointAt(pos);
        width = Character.charCount(ch);
      }
      if (phase == spaces) {
        if (pos == len) {
          break;
        }
        if (GoText.isSpace(ch)) {
          continue;
        }
        phase = inWord;
      }
      if (pos == len) {
        if (blankOk || !word.isEmpty()) {
          words.add(word.toString());
        }
        break;
      }
      if (phase == inWord) {
        if (GoText.isSpace(ch)) {
          phase = spaces;
          if (blankOk || !word.isEmpty()) {
            words.add(word.toString());
          }
          word.setLength(0);
          blankOk = false;
          continue;
        }
        if (ch == '\'' || ch == '"') {
          quote = ch;
          blankOk = true;
          phase = inQuote;
        }
        if (ch == escape) {
          if (pos + width == len) {
            continue; // a lone escape at the end is dropped
          }
          word.appendCodePoint(ch);
          pos += width;
          ch = rest.codePointAt(pos);
          width = Character.charCount(ch);
        }
        word.appendCodePoint(ch);
        continue;
      }
      // inQuote
      if (ch == quote) {
        phase = inWord;
      }
      if (ch == escape && quote != '\'') {
        if (pos + width == len) {
          phase = inWord;
          continue;
        }
        pos += width;
        word.appendCodePoint(ch);
        ch = rest.codePointAt(pos);
        width = Character.charCount(ch);
      }
      word.appendCodePoint(ch);
    }
    return words;
  }

  /** ENV and LABEL: {@code KEY value} (legacy) or {@code k=v k2=v2}, as key/value/sep triples. */
  private static Parsed nameValue(String rest, String keyword, int escape) throws SyntaxProblem {
    List<String> words = parseWords(rest, escape);
    if (words.isEmpty()) {
      return Parsed.NONE;
    }
    if (!words.get(0).contains("=")) {
      List<String> parts = GoText.splitWhitespace(rest, 2);
      if (parts.size() < 2) {
        throw new SyntaxProblem(keyword + " must have two arguments");
      }
      return new Parsed(keyValue(parts.get(0), parts.get(1), ""), false);
    }
    Chain chain = new Chain();
    for (String word : words) {
      int eq = word.indexOf('=');
      if (eq < 0) {
        throw new SyntaxProblem("Syntax error - can't find = in " + GoText.quote(word)
            + ". Must be of the form: name=value");
      }
      Node triple = keyValue(word.substring(0, eq), word.substring(eq + 1), "=");
      chain.append(triple);
      chain.append(triple.next());
      chain.append(triple.next().next());
    }
    return new Parsed(chain.first, false);
  }

  private static Node keyValue(String key, String value, String separator) {
    Node k = new Node(key);
    Node v = new Node(value);
    k.setNext(v);
    v.setNext(new Node(separator));
    return k;
  }

  /** ARG: one node per word, quotes kept. */
  private static Parsed nameOrNameValue(String rest, int escape) {
    Chain chain = new Chain();
    for (String word : parseWords(rest, escape)) {
      chain.append(new Node(word));
    }
    return new Parsed(chain.first, false);
  }

  private static Node whitespaceDelimited(String rest) {
    if (rest.isEmpty()) {
      return null;
    }
    Chain chain = new Chain();
    for (String part : GoText.splitWhitespace(rest, -1)) {
      chain.append(new Node(part));
    }
    return chain.first;
  }

  /**
   * A JSON array of strings, or null when {@code rest} is not a JSON array at all (BuildKit
   * then falls back to the shell form).
   *
   * @throws SyntaxProblem for a well-formed array with a non-string element
   */
  static List<String> jsonStrings(String rest) throws SyntaxProblem {
    String trimmed = GoText.trimLeftSpace(rest);
    if (!trimmed.startsWith("[")) {
      return null;
    }
    Object value;
    try {
      value = GoJson.parse(trimmed);
    } catch (GoJson.SyntaxException e) {
      return null;
    }
    List<String> strings = new ArrayList<>();
    for (Object element : (List<?>) value) {
      if (!(element instanceof String s)) {
        throw new SyntaxProblem(NOT_STRING_ARRAY);
      }
      strings.add(s);
    }
    return strings;
  }

  private static Parsed json(List<String> strings) {
    Chain chain = new Chain();
    strings.forEach(s -> chain.append(new Node(s)));
    return new Parsed(chain.first, true);
  }

  /** RUN, CMD, ENTRYPOINT, SHELL: JSON form, else the whole rest as one node. */
  private static Parsed maybeJson(String rest) throws SyntaxProblem {
    if (rest.isEmpty()) {
      return Parsed.NONE;
    }
    List<String> strings = jsonStrings(rest);
    return strings != null ? json(strings) : new Parsed(new Node(rest), false);
  }

  /** ADD, COPY, VOLUME: JSON form, else whitespace-separated words (quotes not interpreted). */
  private static Parsed maybeJsonToList(String rest) throws SyntaxProblem {
    List<String> strings = jsonStrings(rest);
    return strings != null ? json(strings) : new Parsed(whitespaceDelimited(rest), false);
  }

  /** HEALTHCHECK: the type word (CMD, NONE), then the RUN rule on the remainder. */
  private static Parsed healthConfig(String rest) throws SyntaxProblem {
    int sep = 0;
    while (sep < rest.length() && !GoText.isSpace(rest.codePointAt(sep))) {
      sep += Character.charCount(rest.codePointAt(sep));
    }
    int next = sep;
    while (next < rest.length() && GoText.isSpace(rest.codePointAt(next))) {
      next += Character.charCount(rest.codePointAt(next));
    }
    if (sep == 0) {
      return Parsed.NONE;
    }
    Node type = new Node(rest.substring(0, sep));
    Parsed command = maybeJson(rest.substring(next));
    type.setNext(command.first());
    return new Parsed(type, command.json());
  }

  /** Builds a singly linked argument chain. */
  private static final class Chain {
    Node first;
    Node last;

    void append(Node node) {
      if (first == null) {
        first = node;
      } else if (last != node) {
        last.setNext(node);
      }
      last = node;
    }
  }
}
