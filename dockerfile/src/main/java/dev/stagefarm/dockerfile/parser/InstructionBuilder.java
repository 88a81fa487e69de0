package dev.stagefarm.dockerfile.parser;

import java.util.List;

/** BuildKit's {@code newNodeFromLine}: one logical line becomes one instruction node. */
final class InstructionBuilder {

  private InstructionBuilder() {}

  /**
   * How deep ONBUILD may nest (ONBUILD ONBUILD ...). BuildKit's parser has no limit, but its
   * instruction layer rejects any nesting; the bound keeps absurd input from exhausting the stack.
   */
  static final int MAX_NESTING = 1_000;

  static Node build(String line, int escape, List<String> comments) throws SyntaxProblem {
    return build(line, escape, comments, 0);
  }

  static Node build(String line, int escape, List<String> comments, int depth)
      throws SyntaxProblem {
    if (depth > MAX_NESTING) {
      throw new SyntaxProblem("instruction nested too deeply to parse");
    }
    CommandSplitter.Split split = CommandSplitter.split(line, escape);
    ArgumentParsers.Parsed args =
        ArgumentParsers.parse(split.keyword(), split.args(), escape, depth);
    Node node = new Node(split.keyword(), split.flags(), line, comments);
    node.setNext(args.first());
    node.markJson(args.json());
    return node;
  }
}
