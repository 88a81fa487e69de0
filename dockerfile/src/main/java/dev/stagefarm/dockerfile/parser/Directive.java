package dev.stagefarm.dockerfile.parser;

/**
 * One parser directive from the top of a Dockerfile, e.g. {@code # syntax=docker/dockerfile:1}.
 *
 * @param name the key, lower-cased: {@code syntax}, {@code escape} or {@code check}
 * @param value the value with surrounding whitespace trimmed
 * @param line the 1-based physical line it was written on
 */
public record Directive(String name, String value, int line) {}
