package dev.stagefarm.dockerfile.instructions;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PosixPathsTest {

  @ParameterizedTest
  @CsvSource({
    "'', /app, /app",
    "/, app, /app",
    "/app, bin, /app/bin",
    "/app, ../etc/, /etc",
    "/app, /opt//x/./y/.., /opt/x",
    "/a/b, ../../.., /",
  })
  void workdirResolvesAgainstTheCurrentOne(String current, String path, String expected) {
    assertThat(PosixPaths.resolveWorkdir(current, path)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({
    "/app, ., /app/",
    "/app, '', /app/",
    "/app, conf/, /app/conf/",
    "/app, conf, /app/conf",
    "/, /usr/share/www, /usr/share/www",
    "/app, /, /",
    "/app, ../x/., /x/",
  })
  void destinationKeepsItsTrailingSlash(String workdir, String dest, String expected) {
    assertThat(PosixPaths.resolveDestination(workdir, dest)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"a/../.., ..", "./, .", "a//b/, a/b", "'', ."})
  void cleanIsGosPathClean(String path, String expected) {
    assertThat(PosixPaths.clean(path)).isEqualTo(expected);
  }
}
