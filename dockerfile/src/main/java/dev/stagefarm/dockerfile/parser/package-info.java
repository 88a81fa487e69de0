/**
 * BuildKit's Dockerfile parser in pure Java: directives, comments, line continuations, flags,
 * JSON and shell forms, heredocs, and the AST with its {@code Dump()} format. Start at {@link
 * dev.stagefarm.dockerfile.parser.DockerfileParser#parse(String)}.
 */
package dev.stagefarm.dockerfile.parser;
