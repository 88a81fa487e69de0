package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A worker's CopyAction starts no HTTP client until an {@code ADD URL} needs one: the client's selector thread sits in
 * native code for the rest of the process, and a JVM that exits with such a thread waits 300 ms for it (every cold
 * one-shot build paid that at its exit). The class is loaded afresh (its own class loader), so that whatever other
 * tests of this JVM did with it does not hide its initialisation.
 */
class CopyActionHttpClientTest {

  private static long selectorThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("HttpClient-") && t.getName().endsWith("SelectorManager"))
        .count();
  }

  @Test
  void makingACopyActionStartsNoHttpClient() throws Exception {
    URL[] classPath = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .map(entry -> {
          try {
            return Path.of(entry).toUri().toURL();
          } catch (java.net.MalformedURLException e) {
            throw new IllegalStateException(e);
          }
        }).toArray(URL[]::new);
    long before = selectorThreads();
    try (URLClassLoader fresh = new URLClassLoader(classPath, ClassLoader.getPlatformClassLoader())) {
      Class<?> copyAction = Class.forName(CopyAction.class.getName(), true, fresh);
      assertThat(copyAction.getClassLoader()).isSameAs(fresh);
      var constructor = copyAction.getDeclaredConstructor(long.class);
      constructor.setAccessible(true);
      constructor.newInstance(1L << 20);
      Thread.sleep(100); // a client's selector thread starts at once when the client is built
      assertThat(selectorThreads()).as("HTTP client selector threads").isEqualTo(before);
    }
  }
}
