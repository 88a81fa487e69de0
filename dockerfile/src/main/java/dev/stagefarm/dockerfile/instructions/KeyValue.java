package dev.stagefarm.dockerfile.instructions;

/**
 * One pair of ENV or LABEL (BuildKit's {@code KeyValuePair}).
 *
 * @param key the name as written
 * @param value the value as written (quotes kept until expanded)
 * @param noDelim true for the legacy form {@code ENV key value} (no {@code =})
 */
public record KeyValue(String key, String value, boolean noDelim) {

  @Override
  public String toString() {
    return key + "=" + value;
  }

  KeyValue expand(WordExpander e) {
    return new KeyValue(e.word(key), e.word(value), noDelim);
  }
}
