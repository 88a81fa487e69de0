package dev.stagefarm.config;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * A rule a key's value must keep, checked from every source.
 *
 * @param rule the rule in words, for the documentation and the error ("at least 1")
 */
public record Validator<T>(String rule, Predicate<? super T> test) {

  public static <T> Validator<T> any() {
    return new Validator<>("", v -> true);
  }

  public static Validator<Integer> atLeast(int min) {
    return new Validator<>("at least " + min, v -> v >= min);
  }

  public static Validator<Double> notNegativeNumber() {
    return new Validator<>("not negative", v -> v >= 0);
  }

  public static Validator<Double> fraction() {
    return new Validator<>("0 to 1", v -> v >= 0 && v <= 1);
  }

  public static Validator<Integer> port() {
    return new Validator<>("a port, 0 to 65535", v -> v >= 0 && v <= 65535);
  }

  public static Validator<Duration> positive() {
    return new Validator<>("longer than 0", Duration::isPositive);
  }

  public static Validator<Duration> notNegative() {
    return new Validator<>("not negative", v -> !v.isNegative());
  }

  /** Zero (no limit) or at least {@code min} bytes. */
  public static Validator<Long> zeroOrAtLeast(long min, String minText) {
    return new Validator<>("0 (no limit) or at least " + minText, v -> v == 0 || v >= min);
  }

  public static Validator<Long> atLeastBytes(long min, String minText) {
    return new Validator<>("at least " + minText, v -> v >= min);
  }

  public static Validator<String> notBlank() {
    return new Validator<>("non-empty", v -> !v.isBlank());
  }

  public static Validator<String> url() {
    return new Validator<>("an http:// or https:// URL", v -> v.startsWith("http://") || v.startsWith("https://"));
  }

  public boolean accepts(T value) {
    return test.test(value);
  }
}
