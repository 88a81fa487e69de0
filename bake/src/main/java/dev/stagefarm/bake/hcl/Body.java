package dev.stagefarm.bake.hcl;

import java.util.List;

/** An HCL body: attributes and blocks, in file order. */
public record Body(List<Attribute> attributes, List<Block> blocks) {
  public Body {
    attributes = List.copyOf(attributes);
    blocks = List.copyOf(blocks);
  }

  public record Attribute(Pos pos, String name, Expr value) {}

  public record Block(Pos pos, String type, List<String> labels, Body body) {
    public Block {
      labels = List.copyOf(labels);
    }
  }
}
