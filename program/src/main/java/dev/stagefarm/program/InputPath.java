package dev.stagefarm.program;

/**
 * A path in a stage or image input, as written (cleaned); the worker expands it there.
 *
 * @param input a {@link ProgramInput#id()}
 */
public record InputPath(String input, String path) {}
