package dev.stagefarm.program;

/**
 * Where an op came from, for error messages and progress labels; never part of a cache key.
 *
 * @param line 1-based Dockerfile line (the FROM line for a base image's ONBUILD trigger)
 * @param text the instruction as written
 * @param keyword {@code RUN}, {@code COPY}, …
 */
public record OpSource(int line, String text, String keyword) {}
