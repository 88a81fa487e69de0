package dev.stagefarm.cli.build;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks a build context honouring {@code .dockerignore} and hashes every file (with a
 * {@link StatCache}: every file that changed).
 */
public final class ContextScanner {
  private ContextScanner() {}

  public static ScannedContext scan(Path contextDir) throws IOException {
    return scan(contextDir, StatCache.none());
  }

  public static ScannedContext scan(Path contextDir, StatCache cache) throws IOException {
    if (!Files.isDirectory(contextDir)) {
      throw new UserError("build context " + contextDir + " is not a directory");
    }
    Path root = contextDir.toAbsolutePath().normalize();
    DockerIgnore ignore = DockerIgnore.load(root);
    List<ContextEntry> entries = new ArrayList<>();
    Map<String, Path> files = new LinkedHashMap<>();
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
            if (dir.equals(root)) {
              return FileVisitResult.CONTINUE;
            }
            String path = relative(root, dir);
            if (ignore.ignores(path)) {
              return ignore.hasExceptions() ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
            }
            entries.add(entry(path, ContextEntry.Type.DIRECTORY, dir, attrs).build());
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            String path = relative(root, file);
            if (ignore.ignores(path)) {
              return FileVisitResult.CONTINUE;
            }
            if (attrs.isSymbolicLink()) {
              entries.add(
                  entry(path, ContextEntry.Type.SYMLINK, file, attrs)
                      .setLinkTarget(Files.readSymbolicLink(file).toString())
                      .build());
            } else if (attrs.isRegularFile()) {
              // one lstat for the mode and everything the stat cache compares
              Map<String, Object> unix = Files.readAttributes(file, "unix:mode,dev,ino,size,lastModifiedTime,ctime",
                  LinkOption.NOFOLLOW_LINKS);
              long size = (Long) unix.get("size");
              String digest = cache.digest(path, file, new StatCache.Stat((Long) unix.get("dev"), (Long) unix.get("ino"),
                  size, nanos(unix.get("lastModifiedTime")), nanos(unix.get("ctime"))));
              files.putIfAbsent(digest, file);
              entries.add(
                  ContextEntry.newBuilder()
                      .setPath(path)
                      .setType(ContextEntry.Type.FILE)
                      .setMode((Integer) unix.get("mode") & 0777)
                      .setMtimeMs(attrs.lastModifiedTime().toMillis())
                      .setDigest(digest)
                      .setSize(size)
                      .build());
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            throw new UserError("cannot read " + file + " in the build context: " + e.getMessage());
          }
        });
    cache.save();
    entries.sort(Comparator.comparing(ContextEntry::getPath));
    ContextManifest manifest =
        ContextManifest.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).addAllEntries(entries).build();
    byte[] bytes = manifest.toByteArray();
    return new ScannedContext(manifest, bytes, Digest.of(bytes), files);
  }

  private static String relative(Path root, Path path) {
    return root.relativize(path).toString().replace('\\', '/');
  }

  private static ContextEntry.Builder entry(String path, ContextEntry.Type type, Path file, BasicFileAttributes attrs)
      throws IOException {
    return ContextEntry.newBuilder()
        .setPath(path)
        .setType(type)
        .setMode(mode(file))
        .setMtimeMs(attrs.lastModifiedTime().toMillis());
  }

  private static int mode(Path file) throws IOException {
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= switch (p) {
        case OWNER_READ -> 0400;
        case OWNER_WRITE -> 0200;
        case OWNER_EXECUTE -> 0100;
        case GROUP_READ -> 040;
        case GROUP_WRITE -> 020;
        case GROUP_EXECUTE -> 010;
        case OTHERS_READ -> 04;
        case OTHERS_WRITE -> 02;
        case OTHERS_EXECUTE -> 01;
      };
    }
    return mode;
  }

  private static long nanos(Object fileTime) {
    java.time.Instant t = ((java.nio.file.attribute.FileTime) fileTime).toInstant();
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  static Digest hash(Path file) throws IOException {
    MessageDigest sha = Digest.newSha256();
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        sha.update(buffer, 0, n);
      }
    }
    return Digest.fromBytes(sha.digest());
  }
}
