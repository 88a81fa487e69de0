/**
 * BuildKit's Dockerfile parser ({@code frontend/dockerfile/parser}) in pure Java: parser
 * directives, comments, line continuations with the escape character, empty-continuation
 * warnings, JSON and shell forms, leading flags, the ENV/LABEL/ARG word splitter, heredocs, line
 * ranges, the 65,535-byte line limit, and the AST with its {@code Dump()} format. Start at {@link
 * dev.stagefarm.dockerfile.parser.DockerfileParser#parse(String)}; heredoc helpers are in {@link
 * dev.stagefarm.dockerfile.parser.Heredocs}, directive detection in {@link
 * dev.stagefarm.dockerfile.parser.DirectiveParser}.
 *
 * <p>It reproduces every case of BuildKit's parser test data. Where it knowingly differs:
 *
 * <ul>
 *   <li>Error lines: every error names the 1-based line it is about. BuildKit reports directive
 *       and line-limit errors one line early, and "file with no instructions" at the last line
 *       (here: no line). A line over the limit is reported even before the first instruction.
 *   <li>Flags are read by code point; BuildKit reads bytes, which mangles non-ASCII characters in
 *       {@code --flag} values (and treats the bytes 0x85 and 0xA0 inside them as spaces). The same
 *       holds for the HEALTHCHECK type word.
 *   <li>Input bytes that are not UTF-8 become U+FFFD; BuildKit keeps the bytes and dumps them as
 *       {@code \xHH}.
 *   <li>{@link dev.stagefarm.dockerfile.parser.Node#comments()} of an indented comment drops the
 *       {@code #}; BuildKit drops the first byte of the line instead.
 *   <li>The empty-continuation warning spans the instruction's lines; BuildKit points at its last.
 *   <li>ONBUILD nested more than 1,000 deep, and {@code ${a:-${b:-...}}} nested tens of
 *       thousands deep on a heredoc line, are errors ("instruction nested too deeply to parse"),
 *       where Go's growing stacks parse them (BuildKit's instruction layer rejects any ONBUILD
 *       nesting anyway).
 * </ul>
 */
package dev.stagefarm.dockerfile.parser;
