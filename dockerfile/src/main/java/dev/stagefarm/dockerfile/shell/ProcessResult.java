package dev.stagefarm.dockerfile.shell;

import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything one expansion produced (BuildKit's {@code ProcessWordResult}).
 *
 * @param result the word expanded and unquoted, not split (what ProcessWord returns)
 * @param words the same text split into words (what ProcessWords returns)
 * @param matched names of the variables that were looked up and were set (even if empty)
 * @param unmatched names of the variables that were looked up and were not set; useful for lint
 *     warnings such as an undefined ARG. Positional and special parameters ({@code $1}, {@code $@})
 *     are looked up too and land here.
 */
public record ProcessResult(
    String result, List<String> words, Set<String> matched, Set<String> unmatched) {

  public ProcessResult {
    words = List.copyOf(words);
    // Sorted so that anything printed from them is stable from run to run.
    matched = Collections.unmodifiableSortedSet(new TreeSet<>(matched));
    unmatched = Collections.unmodifiableSortedSet(new TreeSet<>(unmatched));
  }
}
