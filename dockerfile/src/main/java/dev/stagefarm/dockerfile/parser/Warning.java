package dev.stagefarm.dockerfile.parser;

/**
 * A non-fatal finding of the parser, e.g. an empty continuation line.
 *
 * @param shortMessage one line, e.g. {@code Empty continuation line found in: RUN a b}
 * @param detail why it matters
 * @param startLine first physical line (1-based) of the instruction concerned
 * @param endLine last physical line of the instruction concerned
 */
public record Warning(String shortMessage, String detail, int startLine, int endLine) {}
