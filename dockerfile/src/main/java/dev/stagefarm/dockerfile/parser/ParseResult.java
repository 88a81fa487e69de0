package dev.stagefarm.dockerfile.parser;

import java.util.List;

/**
 * The outcome of parsing a Dockerfile (BuildKit's {@code parser.Result}).
 *
 * @param ast the root node: its {@link Node#children()} are the instructions
 * @param warnings non-fatal findings, in file order
 * @param escapeToken the escape character in effect ({@code \} unless {@code # escape=`})
 * @param directives the parser directives found at the top of the file
 */
public record ParseResult(Node ast, List<Warning> warnings, char escapeToken, Directives directives) {
  public ParseResult {
    warnings = List.copyOf(warnings);
  }
}
