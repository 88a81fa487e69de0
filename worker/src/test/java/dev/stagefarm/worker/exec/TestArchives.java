package dev.stagefarm.worker.exec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Archives and a small HTTP server for ADD tests. */
final class TestArchives {
  private TestArchives() {}

  static byte[] tarOf(Map<String, String> files, int uid, int mode) throws Exception {
    var bytes = new ByteArrayOutputStream();
    try (var out = new TarArchiveOutputStream(bytes)) {
      for (Map.Entry<String, String> f : new TreeMap<>(files).entrySet()) {
        byte[] data = f.getValue().getBytes(StandardCharsets.UTF_8);
        var entry = new TarArchiveEntry(f.getKey());
        entry.setSize(data.length);
        entry.setMode(mode);
        entry.setIds(uid, uid);
        out.putArchiveEntry(entry);
        out.write(data);
        out.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  static byte[] tarOf(String name, String content) throws Exception {
    return tarOf(Map.of(name, content), 0, 0644);
  }

  static byte[] gzip(byte[] data) throws Exception {
    var bytes = new ByteArrayOutputStream();
    try (var out = new java.util.zip.GZIPOutputStream(bytes)) {
      out.write(data);
    }
    return bytes.toByteArray();
  }

  /** A local HTTP server answering {@code path} with {@code body}; the caller stops it. */
  static com.sun.net.httpserver.HttpServer serve(String path, byte[] body) throws Exception {
    var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(path, exchange -> {
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    return server;
  }
}
