package dev.stagefarm.dockerfile.parser;

import dev.stagefarm.dockerfile.internal.GoText;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One node of BuildKit's Dockerfile AST ({@code parser.Node}).
 *
 * <p>The root has no value and one child per instruction. An instruction node holds the keyword
 * as written in {@link #value()}, its leading {@code --flags}, and its arguments as a linked
 * chain starting at {@link #next()}. ONBUILD is the one nesting case: its argument node has no
 * value and the parsed sub-instruction as its only child.
 *
 * <p>Nodes are built by {@link DockerfileParser} and never change after parsing.
 */
public final class Node {
  private final String value;
  private Node next;
  private final List<Node> children = new ArrayList<>();
  private final List<Heredoc> heredocs = new ArrayList<>();
  private final List<String> flags;
  private final List<String> comments;
  private boolean json;
  private final String original;
  private int startLine;
  private int endLine;

  Node(String value) {
    this(value, List.of(), "", List.of());
  }

  Node(String value, List<String> flags, String original, List<String> comments) {
    this.value = value;
    this.flags = List.copyOf(flags);
    this.original = original;
    this.comments = List.copyOf(comments);
  }

  /** The keyword as written for an instruction; the argument value for a node of the chain. */
  public String value() {
    return value;
  }

  /** The next argument, or null at the end of the chain. */
  public Node next() {
    return next;
  }

  /** Root: the instructions. ONBUILD's argument node: the sub-instruction. Otherwise empty. */
  public List<Node> children() {
    return Collections.unmodifiableList(children);
  }

  /** The leading {@code --flags} of the instruction, quotes removed, e.g. {@code --from=build}. */
  public List<String> flags() {
    return flags;
  }

  /** Whether the arguments were written in exec (JSON array) form. */
  public boolean isJson() {
    return json;
  }

  /** The logical line as written (continuations joined), for history and error messages. */
  public String original() {
    return original;
  }

  /** The comment lines directly above the instruction, without their {@code #}. */
  public List<String> comments() {
    return comments;
  }

  /** First physical line (1-based) of the instruction; 0 for nodes that are not instructions. */
  public int startLine() {
    return startLine;
  }

  /** Last physical line (1-based) of the instruction, heredoc bodies included. */
  public int endLine() {
    return endLine;
  }

  /** The heredocs of a RUN, COPY or ADD (also under ONBUILD), in the order they were written. */
  public List<Heredoc> heredocs() {
    return Collections.unmodifiableList(heredocs);
  }

  /** The values of the argument chain, in order. */
  public List<String> values() {
    List<String> values = new ArrayList<>();
    for (Node n = next; n != null; n = n.next) {
      values.add(n.value);
    }
    return values;
  }

  /** BuildKit's {@code Node.Dump()}: the S-expression form used by its parser test data. */
  public String dump() {
    StringBuilder s = new StringBuilder(GoText.toLower(value));
    if (!flags.isEmpty()) {
      s.append(" [");
      for (int i = 0; i < flags.size(); i++) {
        s.append(i == 0 ? "" : " ").append(GoText.quote(flags.get(i)));
      }
      s.append(']');
    }
    for (Node child : children) {
      s.append('(').append(child.dump()).append(")\n");
    }
    for (Node n = next; n != null; n = n.next) {
      s.append(' ').append(n.children.isEmpty() ? GoText.quote(n.value) : n.dump());
    }
    return GoText.trimSpace(s.toString());
  }

  @Override
  public String toString() {
    return dump();
  }

  void setNext(Node next) {
    this.next = next;
  }

  void markJson(boolean json) {
    this.json = json;
  }

  void addChild(Node child, int start, int end) {
    child.startLine = start;
    child.endLine = end;
    if (children.isEmpty() && startLine == 0) {
      startLine = start;
    }
    endLine = end;
    children.add(child);
  }

  void addChild(Node child) {
    children.add(child);
  }

  void addHeredoc(Heredoc heredoc) {
    heredocs.add(heredoc);
  }

  /** Whether heredocs are looked for: RUN, COPY, ADD in shell form, also as ONBUILD's trigger. */
  boolean canContainHeredoc() {
    Node node = this;
    if (GoText.toLower(value).equals("onbuild") && next != null && !next.children.isEmpty()) {
      node = next.children.get(0);
    }
    return switch (GoText.toLower(node.value)) {
      case "run", "copy", "add" -> !node.json;
      default -> false;
    };
  }
}
