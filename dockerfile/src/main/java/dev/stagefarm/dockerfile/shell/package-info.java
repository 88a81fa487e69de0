/**
 * Variable expansion and word splitting for Dockerfile words, behaving exactly like BuildKit's
 * {@code frontend/dockerfile/shell} package. Start at {@link dev.stagefarm.dockerfile.shell.ShellLex}.
 */
package dev.stagefarm.dockerfile.shell;
