/**
 * Variable expansion and word splitting for Dockerfile words, behaving like BuildKit's {@code
 * frontend/dockerfile/shell} package. Start at {@link dev.stagefarm.dockerfile.shell.ShellLex}.
 *
 * <h2>How BuildKit's frontend uses it (for the code that expands instructions)</h2>
 *
 * <ul>
 *   <li>One lexer per Dockerfile, built with the escape token of the {@code # escape=} directive.
 *   <li>{@code processWord} (one word in, one string out) for: ENV keys and values, LABEL keys and
 *       values, ARG names and defaults, WORKDIR, USER, VOLUME entries, STOPSIGNAL, COPY/ADD sources
 *       and destination, {@code --chown}, {@code --chmod}, ADD {@code --checksum}, COPY {@code
 *       --from}, the option values of RUN {@code --mount}, and COPY/ADD heredoc bodies whose
 *       delimiter is unquoted.
 *   <li>{@code processWords} (split) for EXPOSE: {@code EXPOSE $PORTS} with {@code PORTS="80
 *       443"} exposes two ports.
 *   <li>FROM's image and {@code --platform} are expanded with the global ARGs only (those before
 *       the first FROM, with {@code --build-arg} values and the predefined platform ARGs); the
 *       {@code AS name} is not expanded.
 *   <li>Not expanded by the frontend: RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK commands (the
 *       shell in the container does that), ONBUILD, MAINTAINER.
 *   <li>The environment is the stage's ARGs in scope and its ENV so far; all words of one
 *       instruction see the environment from before it ({@code ENV A=1 B=$A} gives B the old A).
 *   <li>{@link dev.stagefarm.dockerfile.shell.ProcessResult#unmatched()} names variables that were
 *       used but not set: BuildKit's {@code UndefinedVar} / {@code UndefinedArgInFrom} warnings.
 * </ul>
 */
package dev.stagefarm.dockerfile.shell;
