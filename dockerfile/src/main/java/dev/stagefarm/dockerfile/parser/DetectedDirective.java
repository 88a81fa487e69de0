package dev.stagefarm.dockerfile.parser;

/**
 * A directive found by {@link DirectiveParser#detectSyntax} or {@link
 * DirectiveParser#parseDirective}.
 *
 * @param ref the value up to its first space, e.g. {@code docker/dockerfile:1}
 * @param cmdline the whole value, e.g. {@code docker/dockerfile:1 // opts}
 * @param line the 1-based line it was found on (0 for the JSON form without shebang)
 */
public record DetectedDirective(String ref, String cmdline, int line) {}
