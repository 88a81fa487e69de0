package dev.stagefarm.program;

import static dev.stagefarm.program.PathPattern.Syntax.FILEPATH_MATCH;
import static dev.stagefarm.program.PathPattern.Syntax.PATTERN_MATCHER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import dev.stagefarm.program.PathPattern.Syntax;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class PathPatternTest {
  private static final String BAD = "ErrBadPattern";
  private static final int STAR_PIECE = 4;

  /**
   * Go's own table for {@code filepath.Match}: {@code matchTests} in
   * golang/go src/path/filepath/match_test.go (the Unix rows; Go skips those with '\' on Windows).
   * Each row: pattern, name, expected match or {@link #BAD}.
   */
  static Stream<Arguments> goMatchTests() {
    return Stream.of(
        go("abc", "abc", true),
        go("*", "abc", true),
        go("*c", "abc", true),
        go("a*", "a", true),
        go("a*", "abc", true),
        go("a*", "ab/c", false),
        go("a*/b", "abc/b", true),
        go("a*/b", "a/c/b", false),
        go("a*b*c*d*e*/f", "axbxcxdxe/f", true),
        go("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
        go("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        go("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
        go("a*b?c*x", "abxbbxdbxebxczzx", true),
        go("a*b?c*x", "abxbbxdbxebxczzy", false),
        go("ab[c]", "abc", true),
        go("ab[b-d]", "abc", true),
        go("ab[e-g]", "abc", false),
        go("ab[^c]", "abc", false),
        go("ab[^b-d]", "abc", false),
        go("ab[^e-g]", "abc", true),
        go("a\\*b", "a*b", true),
        go("a\\*b", "ab", false),
        go("a?b", "a\u263Ab", true),
        go("a[^a]b", "a\u263Ab", true),
        go("a???b", "a\u263Ab", false),
        go("a[^a][^a][^a]b", "a\u263Ab", false),
        go("[a-\u03B6]*", "\u03B1", true),
        go("*[a-\u03B6]", "A", false),
        go("a?b", "a/b", false),
        go("a*b", "a/b", false),
        go("[\\]a]", "]", true),
        go("[\\-]", "-", true),
        go("[x\\-]", "x", true),
        go("[x\\-]", "-", true),
        go("[x\\-]", "z", false),
        go("[\\-x]", "x", true),
        go("[\\-x]", "-", true),
        go("[\\-x]", "a", false),
        go("[]a]", "]", BAD),
        go("[-]", "-", BAD),
        go("[x-]", "x", BAD),
        go("[x-]", "-", BAD),
        go("[x-]", "z", BAD),
        go("[-x]", "x", BAD),
        go("[-x]", "-", BAD),
        go("[-x]", "a", BAD),
        go("\\", "a", BAD),
        go("[a-b-c]", "a", BAD),
        go("[", "a", BAD),
        go("[^", "a", BAD),
        go("[^bc", "a", BAD),
        go("a[", "a", BAD),
        go("a[", "ab", BAD),
        go("a[", "x", BAD),
        go("a/b[", "x", BAD),
        go("*x", "xxx", true),
        // From the same file's TestGlobError: an empty class is malformed wherever it stands.
        go("[]", "x", BAD),
        go("nonexist/[]", "nonexist/x", BAD));
  }

  @ParameterizedTest
  @MethodSource("goMatchTests")
  void filepathMatchAgreesWithGo(String pattern, String name, Object expected) {
    if (expected.equals(BAD)) {
      assertThatThrownBy(() -> PathPattern.compile(pattern, FILEPATH_MATCH))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("syntax error in pattern");
    } else {
      assertThat(PathPattern.compile(pattern, FILEPATH_MATCH).matches(name)).isEqualTo(expected);
    }
  }

  /**
   * moby/patternmatcher's {@code TestMatches} table (patternmatcher_test.go, with its non-Windows
   * rows), as {@code MatchesExact} sees it: "exact" rows match, "inexact" (only a parent matches)
   * and "fail" rows do not. Some texts end in '/', which clean paths never do; kept as moby has them.
   */
  static Stream<Arguments> mobyMatchesTests() {
    return Stream.of(
        moby("**", "file", true),
        moby("**", "file/", true),
        moby("**/", "file", true),
        moby("**/", "file/", true),
        moby("**", "/", true),
        moby("**/", "/", true),
        moby("**", "dir/file", true),
        moby("**/", "dir/file", true),
        moby("**", "dir/file/", true),
        moby("**/", "dir/file/", true),
        moby("**/**", "dir/file", true),
        moby("**/**", "dir/file/", true),
        moby("dir/**", "dir/file", true),
        moby("dir/**", "dir/file/", true),
        moby("dir/**", "dir/dir2/file", true),
        moby("dir/**", "dir/dir2/file/", true),
        moby("**/dir", "dir", true),
        moby("**/dir", "dir/file", false), // inexact
        moby("**/dir2/*", "dir/dir2/file", true),
        moby("**/dir2/*", "dir/dir2/file/", false), // inexact
        moby("**/dir2/**", "dir/dir2/dir3/file", true),
        moby("**/dir2/**", "dir/dir2/dir3/file/", true),
        moby("**file", "file", true),
        moby("**file", "dir/file", true),
        moby("**/file", "dir/file", true),
        moby("**file", "dir/dir/file", true),
        moby("**/file", "dir/dir/file", true),
        moby("**/file*", "dir/dir/file", true),
        moby("**/file*", "dir/dir/file.txt", true),
        moby("**/file*txt", "dir/dir/file.txt", true),
        moby("**/file*.txt", "dir/dir/file.txt", true),
        moby("**/file*.txt*", "dir/dir/file.txt", true),
        moby("**/**/*.txt", "dir/dir/file.txt", true),
        moby("**/**/*.txt2", "dir/dir/file.txt", false),
        moby("**/*.txt", "file.txt", true),
        moby("**/**/*.txt", "file.txt", true),
        moby("a**/*.txt", "a/file.txt", true),
        moby("a**/*.txt", "a/dir/file.txt", true),
        moby("a**/*.txt", "a/dir/dir/file.txt", true),
        moby("a/*.txt", "a/dir/file.txt", false),
        moby("a/*.txt", "a/file.txt", true),
        moby("a/*.txt**", "a/file.txt", true),
        moby("a[b-d]e", "ae", false),
        moby("a[b-d]e", "ace", true),
        moby("a[b-d]e", "aae", false),
        moby("a[^b-d]e", "aze", true),
        moby(".*", ".foo", true),
        moby(".*", "foo", false),
        moby("abc.def", "abcdef", false),
        moby("abc.def", "abc.def", true),
        moby("abc.def", "abcZdef", false),
        moby("abc?def", "abcZdef", true),
        moby("abc?def", "abcdef", false),
        moby("**/foo/bar", "foo/bar", true),
        moby("**/foo/bar", "dir/foo/bar", true),
        moby("**/foo/bar", "dir/dir2/foo/bar", true),
        moby("abc/**", "abc", false),
        moby("abc/**", "abc/def", true),
        moby("abc/**", "abc/def/ghi", true),
        moby("**/.foo", ".foo", true),
        moby("**/.foo", "bar.foo", false),
        moby("a(b)c/def", "a(b)c/def", true),
        moby("a(b)c/def", "a(b)c/xyz", false),
        moby("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        moby("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        moby("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        moby("a\\\\", "a\\", true),
        moby("a\\*b", "a*b", true));
  }

  @ParameterizedTest
  @MethodSource("mobyMatchesTests")
  void patternMatcherAgreesWithMoby(String pattern, String path, boolean expected) {
    assertThat(PathPattern.compile(pattern, PATTERN_MATCHER).matches(path)).isEqualTo(expected);
  }

  /** What each dialect makes of the same pattern where they differ. */
  static Stream<Arguments> dialectDifferences() {
    return Stream.of(
        both("** is one star for filepath.Match", "**", "a/b", false, true),
        both("inside a name, ** is still whole directories for moby", "a**b", "axxb", true, false),
        both("dir/** crosses directories only in the patternmatcher", "dir/**", "dir/a/b", false, true),
        both("**/ in the middle may match no directory", "a/**/b", "a/b", false, true),
        both("**/ in the middle may match several directories", "a/**/b", "a/x/y/b", false, true),
        both("the patternmatcher cleans the pattern", "a/./b/../c", "a/c", false, true),
        both("the patternmatcher drops a leading '/'", "/a/*.txt", "a/x.txt", false, true),
        both("filepath.Match keeps a doubled '/'", "a//b", "a//b", true, false),
        both("moby's ** + literal suffix matches inside a name", "**foo", "barfoo", true, true),
        both("moby's suffix shortcut needs a literal tail", "**foo*", "barfoo", true, false),
        both("**/ + literal is whole segments", "**/foo", "barfoo", false, false));
  }

  @ParameterizedTest
  @MethodSource("dialectDifferences")
  void dialectsDifferWhereGoAndMobyDo(String pattern, String path, boolean filepathMatch, boolean patternMatcher) {
    assertThat(PathPattern.compile(pattern, FILEPATH_MATCH).matches(path)).isEqualTo(filepathMatch);
    assertThat(PathPattern.compile(pattern, PATTERN_MATCHER).matches(path)).isEqualTo(patternMatcher);
  }

  @Test
  void aReversedRangeIsEmptyForGoButAnErrorForMoby() {
    // moby/patternmatcher's regression test for moby/moby#52203 uses this very pattern.
    PathPattern go = PathPattern.compile("[Local-Only]", FILEPATH_MATCH);
    assertThat(go.matches("L")).isTrue();
    assertThat(go.matches("m")).isFalse(); // l-O is an empty range
    assertThatThrownBy(() -> PathPattern.compile("[Local-Only]/", PATTERN_MATCHER))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("l-O is reversed");
  }

  @Test
  void aClassMayMatchTheSeparatorAsInGo() {
    assertThat(PathPattern.compile("a[/]b", FILEPATH_MATCH).matches("a/b")).isTrue();
    assertThat(PathPattern.compile("a[^x]b", FILEPATH_MATCH).matches("a/b")).isTrue();
    assertThat(PathPattern.compile("a?b", FILEPATH_MATCH).matches("a/b")).isFalse();
  }

  @Test
  void escapesAreLiteralInBothDialects() {
    // Moby's regexp would read \d as a digit; filepath.Match, and we, read a 'd'.
    for (Syntax syntax : Syntax.values()) {
      PathPattern p = PathPattern.compile("a\\d", syntax);
      assertThat(p.matches("ad")).as("%s", syntax).isTrue();
      assertThat(p.matches("a5")).as("%s", syntax).isFalse();
      assertThat(PathPattern.compile("[!x]", syntax).matches("!")).as("%s: '!' does not negate", syntax).isTrue();
    }
  }

  @Test
  void malformedPatternsFailAtCompileWhateverPathComesFirst() {
    for (Syntax syntax : Syntax.values()) {
      for (String bad : new String[] {"a[", "x/[]", "ok/*/[^", "tail\\", "[a-]", "[\\"}) {
        assertThatThrownBy(() -> PathPattern.compile(bad, syntax))
            .as("%s %s", syntax, bad)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("syntax error in pattern");
      }
    }
  }

  @Test
  void thePatternMatcherShowsItsCleanedPattern() {
    assertThat(PathPattern.compile("/a//b/./c/../d/", PATTERN_MATCHER)).hasToString("a/b/d");
    assertThat(PathPattern.compile("../x", PATTERN_MATCHER)).hasToString("../x");
    assertThat(PathPattern.compile("/", PATTERN_MATCHER)).hasToString("/");
    assertThat(PathPattern.compile("a//b", FILEPATH_MATCH)).hasToString("a//b");
  }

  @Test
  void hasMetaIsGosOnUnix() {
    assertThat(PathPattern.hasMeta("a*")).isTrue();
    assertThat(PathPattern.hasMeta("a?")).isTrue();
    assertThat(PathPattern.hasMeta("a[b]")).isTrue();
    assertThat(PathPattern.hasMeta("a\\b")).isTrue();
    assertThat(PathPattern.hasMeta("a]b")).isFalse();
    assertThat(PathPattern.hasMeta("dir/file.txt")).isFalse();
    assertThat(PathPattern.hasMeta("")).isFalse();
  }

  @Test
  void hostilePatternsRunInLinearTime() {
    String flat = "a".repeat(200_000);
    String deep = "a/".repeat(100_000) + "c";
    assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> {
          // Each would take exponential time in a backtracking regex engine.
          assertThat(PathPattern.compile("*a*a*a*a*a*a*a*a*a*a*b", FILEPATH_MATCH).matches(flat)).isFalse();
          assertThat(PathPattern.compile("*a*a*a*a*a*a*a*a*a*a*b", PATTERN_MATCHER).matches(flat)).isFalse();
          assertThat(PathPattern.compile("**a**a**a**a**a**a**b", PATTERN_MATCHER).matches(deep)).isFalse();
          assertThat(PathPattern.compile("**/a/**/a/**/a/**/a/**/b", PATTERN_MATCHER).matches(deep)).isFalse();
          assertThat(PathPattern.compile("[a]*[a]*[a]*[a]*[a]*[^a]", FILEPATH_MATCH).matches(flat)).isFalse();
          assertThat(PathPattern.compile("**/a/**/a/**/c", PATTERN_MATCHER).matches(deep)).isTrue();
        });
  }

  /**
   * Random patterns built from pieces whose regexp is known (the translation moby uses), checked
   * against java.util.regex on every path up to four characters over {@code a b / *}: the NFA must
   * agree with a regexp engine wherever the regexp is a faithful translation.
   */
  @ParameterizedTest
  @EnumSource(Syntax.class)
  void agreesWithARegexpTranslationOnRandomPatterns(Syntax syntax) {
    String[][] pieces = {
      {"a", "a"}, {"b", "b"}, {"/", "/"}, {"?", "[^/]"}, {"*", "[^/]*"}, {"[ab]", "[ab]"},
      {"[^a]", "[^a]"}, {"[a-b]", "[a-b]"}, {"\\*", "\\*"}, {"[/]", "/"},
    };
    List<String> paths = new ArrayList<>(List.of(""));
    for (int i = 0; i < paths.size() && paths.get(i).length() < 4; i++) {
      for (String c : new String[] {"a", "b", "/", "*"}) {
        paths.add(paths.get(i) + c);
      }
    }
    Random random = new Random(8);
    List<String> disagreements = new ArrayList<>();
    int checked = 0;
    while (checked < 400) {
      StringBuilder glob = new StringBuilder();
      StringBuilder regexp = new StringBuilder();
      int count = 1 + random.nextInt(5);
      boolean starsMeet = false; // "*" next to "*" reads as ** in the patternmatcher
      int previous = -1;
      for (int i = 0; i < count; i++) {
        int pick = random.nextInt(syntax == PATTERN_MATCHER ? pieces.length + 2 : pieces.length);
        starsMeet |= previous == STAR_PIECE && (pick == STAR_PIECE || pick >= pieces.length);
        previous = pick;
        if (pick == pieces.length) {
          glob.append("**/");
          regexp.append("(.*/)?");
        } else if (pick == pieces.length + 1) {
          glob.append("**");
          regexp.append(".*");
          break; // a ** that is not followed by '/' ends the pattern here
        } else {
          glob.append(pieces[pick][0]);
          regexp.append(pieces[pick][1]);
        }
      }
      String pattern = glob.toString();
      boolean translatable =
          syntax == FILEPATH_MATCH
              || (!starsMeet && PathPattern.clean(pattern).equals(pattern) && !pattern.startsWith("/"));
      if (!translatable) {
        continue; // cleaning or stars running together would change what the pieces say
      }
      checked++;
      PathPattern compiled = PathPattern.compile(pattern, syntax);
      Pattern expected = Pattern.compile(regexp.toString(), Pattern.DOTALL);
      for (String path : paths) {
        if (compiled.matches(path) != expected.matcher(path).matches()) {
          disagreements.add(pattern + " ~ " + path);
        }
      }
    }
    assertThat(disagreements).isEmpty();
  }

  private static Arguments go(String pattern, String name, Object expected) {
    String outcome = expected.equals(BAD) ? BAD : String.valueOf(expected);
    return argumentSet("Match(`" + pattern + "`, `" + name + "`) = " + outcome, pattern, name, expected);
  }

  private static Arguments moby(String pattern, String path, boolean expected) {
    return argumentSet("`" + pattern + "` ~ `" + path + "` = " + expected, pattern, path, expected);
  }

  private static Arguments both(String name, String pattern, String path, boolean filepathMatch, boolean patternMatcher) {
    return argumentSet(name, pattern, path, filepathMatch, patternMatcher);
  }
}
