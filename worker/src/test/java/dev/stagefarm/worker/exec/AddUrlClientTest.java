package dev.stagefarm.worker.exec;

import static dev.stagefarm.worker.ProgramBuilder.addTo;
import static dev.stagefarm.worker.ProgramBuilder.program;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ADD of a URL makes its HTTP client for the download and closes it: no client's selector thread outlives it. That
 * thread waits in a native call (epoll_wait), and a JVM's exit waits ~0.3 s for any thread in native code, so a
 * client kept for the process's life cost every one-shot build 0.3 s at its exit (bench/README.md, "Session 13").
 */
class AddUrlClientTest {

  @Test
  void loadingTheCopyActionStartsNoHttpClient() throws Exception {
    long before = newestThreadId();
    // a class loader of its own, so that CopyAction's static initialisation runs here whatever ran before in this JVM
    URL classes = CopyAction.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader isolated = new CopyActionLoader(classes)) {
      Class<?> loaded = Class.forName(CopyAction.class.getName(), true, isolated);
      assertThat(loaded.getClassLoader()).isSameAs(isolated);
    }
    assertThat(httpClientThreadsAfter(before)).isEmpty();
  }

  @Test
  void anAddOfAUrlLeavesNoHttpClientThreadBehind() throws Exception {
    var server = TestArchives.serve("/file", "downloaded".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    try (LocalStages stages = new LocalStages()) {
      long before = newestThreadId();
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/file";
      var result = stages.run(program().copy(addTo("/d/").remote(url, "", "file")).build()).completed();
      assertThat(stages.unpack(result).resolve("d/file")).hasContent("downloaded");
      assertThat(httpClientThreadsAfter(before)).as("the download's client closed with it").isEmpty();
    } finally {
      server.stop(0);
    }
  }

  /** The highest id of a live thread: a thread started later has a higher one. */
  private static long newestThreadId() {
    return Thread.getAllStackTraces().keySet().stream().mapToLong(Thread::threadId).max().orElse(0);
  }

  /** Live threads of the JDK's HTTP client started after the thread {@code id}. */
  private static List<String> httpClientThreadsAfter(long id) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.threadId() > id && t.isAlive() && t.getName().startsWith("HttpClient-"))
        .map(Thread::getName)
        .toList();
  }

  /** Defines CopyAction itself from {@code classes}; every other class comes from the test's class loader. */
  private static final class CopyActionLoader extends URLClassLoader {
    CopyActionLoader(URL classes) {
      super(new URL[] {classes}, CopyAction.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.equals(CopyAction.class.getName())) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> loaded = findLoadedClass(name);
        return loaded != null ? loaded : findClass(name);
      }
    }
  }
}
