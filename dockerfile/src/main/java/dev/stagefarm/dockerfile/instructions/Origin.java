package dev.stagefarm.dockerfile.instructions;

/**
 * Where an instruction comes from: the keyword as written, its line range and its source text.
 *
 * @param keyword the instruction keyword exactly as written, e.g. {@code run} or {@code COPY}
 * @param line first physical line (1-based)
 * @param endLine last physical line, heredoc bodies included
 * @param original the logical line as written (continuations joined), trimmed
 */
public record Origin(String keyword, int line, int endLine, String original) {}
