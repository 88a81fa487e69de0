package dev.stagefarm.cli.farm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.Main;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a client JVM loads on its way to a farm: every class is start-up time in a short-lived process. */
class ClientStartupTest {
  @Test
  void closingTheFarmEndsItsIoThreadSoThatNothingWaitsInNativeCodeAtExit() throws Exception {
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).build().start();
    try {
      RemoteFarm farm = RemoteFarm.connect("127.0.0.1:" + server.getPort());
      var call = dev.stagefarm.proto.v1.BuildServiceGrpc.newBlockingStub(farm.channel());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> call.getStoreUsage(
          dev.stagefarm.proto.v1.StoreUsageRequest.getDefaultInstance())).hasMessageContaining("UNIMPLEMENTED");
      assertThat(ioThreads()).isOne();

      farm.close();
      // HotSpot's exit waits up to 300 ms for a thread in native code (an event loop in epoll_wait)
      assertThat(ioThreads()).isZero();
    } finally {
      server.shutdownNow();
    }
  }

  private static long ioThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("stagefarm-client-io") && t.isAlive()).count();
  }

  @Test
  void aBuildThatReachesTheCoordinatorStartsNoLogbackForNetty(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nCOPY Dockerfile /\n");
    Path classes = dir.resolve("classes.log");
    // a server with no services: the client's first call (which blobs the farm has) fails
    // at once, after its channel, Netty and its logging are up
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).build().start();
    try {
      ProcessBuilder run = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xshare:off", "--enable-native-access=ALL-UNNAMED", "-Xlog:class+load:file=" + classes, "-cp", System.getProperty("java.class.path"),
          Main.class.getName(), "build", "--coordinator", "127.0.0.1:" + server.getPort(), dir.toString())
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("child.log").toFile());
      run.environment().put("STAGEFARM_HOME", dir.resolve("home").toString()); // its context stat cache
      Process child = run.start();
      assertThat(child.waitFor(2, TimeUnit.MINUTES)).isTrue();
      assertThat(Files.readString(dir.resolve("child.log"))).contains("error: checking which blobs of the build context the farm has failed: Method not found");
    } finally {
      server.shutdownNow();
    }
    List<String> loaded = Files.readAllLines(classes).stream()
        .map(line -> line.replaceFirst("^\\[[^]]*\\]\\[[^]]*\\]\\[[^]]*\\] ", "").split(" ")[0])
        .toList();
    assertThat(loaded).contains("io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory",
        "dev.stagefarm.proto.v1.FindMissingBlobsRequest");
    assertThat(loaded).filteredOn(name -> name.startsWith("ch.qos.logback.")).isEmpty();
    assertThat(loaded).filteredOn(name -> name.startsWith("com.sun.org.apache.xerces.")).isEmpty();
  }
}
