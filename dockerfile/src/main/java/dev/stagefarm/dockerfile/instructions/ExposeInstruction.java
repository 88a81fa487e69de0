package dev.stagefarm.dockerfile.instructions;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code EXPOSE port[/proto]...}.
 *
 * @param ports as written, sorted (BuildKit sorts them at parse time)
 */
public record ExposeInstruction(Origin origin, List<String> ports) implements Instruction {

  public ExposeInstruction {
    ports = List.copyOf(ports);
  }

  /** Expands each port with ProcessWords: one word may become several ports. */
  @Override
  public ExposeInstruction expand(WordExpander expander) {
    WordExpander e = expander.at(origin);
    List<String> out = new ArrayList<>();
    for (String p : ports) {
      out.addAll(e.words(p));
    }
    return new ExposeInstruction(origin, out);
  }
}
