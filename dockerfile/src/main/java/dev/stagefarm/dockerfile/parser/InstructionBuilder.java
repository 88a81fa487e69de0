package dev.stagefarm.dockerfile.parser;

import java.util.List;

/** BuildKit's {@code newNodeFromLine}: one logical line becomes one instruction node. */
final class InstructionBuilder {

  private InstructionBuilder() {}

  static Node build(String line, int escape, List<String> comments) throws SyntaxProblem {
    CommandSplitter.Split split = CommandSplitter.split(line, escape);
    ArgumentParsers.Parsed args = ArgumentParsers.parse(split.keyword(), split.args(), escape);
    Node node = new Node(split.keyword(), split.flags(), line, comments);
    node.setNext(args.first());
    node.markJson(args.json());
    return node;
  }
}
