package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Cases from Go's path/filepath match_test.go. */
class GoGlobTest {
  @ParameterizedTest
  @CsvSource({
    "abc, abc, true",
    "*, abc, true",
    "*c, abc, true",
    "a*, a, true",
    "a*, abc, true",
    "a*, ab/c, false",
    "a*/b, abc/b, true",
    "a*/b, a/c/b, false",
    "a*b*c*d*e*/f, axbxcxdxe/f, true",
    "a*b*c*d*e*/f, axbxcxdxexxx/f, true",
    "a*b*c*d*e*/f, axbxcxdxe/xxx/f, false",
    "a*b?c*x, abxbbxdbxebxczzx, true",
    "a*b?c*x, abxbbxdbxebxczzy, false",
    "ab[c], abc, true",
    "ab[b-d], abc, true",
    "ab[e-g], abc, false",
    "ab[^c], abc, false",
    "ab[^b-d], abc, false",
    "ab[^e-g], abc, true",
    "a\\*b, a*b, true",
    "a\\*b, ab, false",
    "a?b, a☺b, true",
    "a?b, a/b, false",
    "*.txt, notes.txt, true",
    "*.txt, dir/notes.txt, false",
    "[, a, false",
  })
  void matchesLikeGo(String pattern, String name, boolean expected) {
    assertThat(GoGlob.match(pattern, name)).isEqualTo(expected);
  }
}
