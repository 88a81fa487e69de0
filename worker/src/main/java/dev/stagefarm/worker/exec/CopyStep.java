package dev.stagefarm.worker.exec;

import dev.stagefarm.dockerfile.instructions.AddInstruction;
import dev.stagefarm.dockerfile.instructions.CopyInstruction;
import dev.stagefarm.dockerfile.instructions.Instruction;
import dev.stagefarm.dockerfile.instructions.RemoteSource;
import dev.stagefarm.dockerfile.instructions.SourceContent;
import dev.stagefarm.dockerfile.instructions.SourcesAndDest;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.image.ContainerConfig;
import dev.stagefarm.worker.StageFailedException;
import dev.stagefarm.worker.StageFailure;
import dev.stagefarm.worker.runtime.HostProcess;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.RootfsPaths;
import dev.stagefarm.worker.runtime.UserResolver;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * COPY and ADD into the instruction's merged rootfs, with BuildKit's semantics: a directory source
 * copies its contents; a file goes to {@code dest} itself unless {@code dest} ends in '/', is an
 * existing directory, or there are several sources; Go {@code filepath.Match} wildcards; new files
 * are owned by 0:0 unless {@code --chown}; modes and mtimes are kept unless {@code --chmod}.
 */
final class CopyStep {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(30)).build();

  /** One resolved source: its host path and the path relative to its root (for --parents). */
  private record Source(Path path, String relative) {}

  void execute(Instruction instruction, int index, ContainerConfig config, Path rootfs, SourceViews views)
      throws StageFailedException, IOException, InterruptedException {
    int line = instruction.line();
    String keyword = instruction.name();
    SourcesAndDest files;
    String chown;
    String chmod;
    List<String> excludes;
    boolean parents = false;
    Path root;
    boolean unpack = false;
    String checksum = "";
    boolean unpackRemote = false; // BuildKit 1.17+: only an explicit --unpack=true unpacks a downloaded archive
    if (instruction instanceof CopyInstruction copy) {
      files = copy.files();
      chown = copy.chown();
      chmod = copy.chmod();
      excludes = copy.excludes();
      parents = copy.parents();
      root = copy.hasFrom() ? views.input(copy.from(), index, line) : null;
    } else if (instruction instanceof AddInstruction add) {
      files = add.files();
      chown = add.chown();
      chmod = add.chmod();
      excludes = add.excludes();
      root = null;
      unpack = add.unpack() == null || add.unpack();
      unpackRemote = Boolean.TRUE.equals(add.unpack());
      checksum = add.checksum();
    } else {
      throw new IllegalArgumentException("not COPY/ADD: " + instruction.name());
    }
    ResolvedUser owner = ResolvedUser.ROOT;
    if (!chown.isEmpty()) {
      try {
        owner = UserResolver.resolve(rootfs, chown);
      } catch (UserResolver.UnknownUserException e) {
        throw new StageFailedException(StageFailure.build(index, line, keyword + " --chown=" + chown + ": " + e.getMessage()));
      }
    }
    Integer mode = parseChmod(chmod, keyword, index, line);
    String cwd = config.workingDir().isEmpty() ? "/" : config.workingDir();
    String destText = files.destPath();
    String destAbs = destText.startsWith("/") ? destText : Path.of(cwd).resolve(destText).normalize().toString();
    boolean destIsDir = destText.endsWith("/") || destText.equals(".") || destText.endsWith("/.")
        || files.sourcePaths().size() + files.sourceContents().size() > 1;
    Path dest = RootfsPaths.resolveLenient(rootfs, destAbs);
    Writer writer = new Writer(rootfs, owner, mode, !chown.isEmpty());

    for (SourceContent inline : files.sourceContents()) {
      // a heredoc is a file source named by its terminator word
      Path target = destIsDir || Files.isDirectory(dest) ? dest.resolve(inline.path()) : dest;
      writer.mkdirs(target.getParent());
      Files.writeString(target, inline.data(), StandardCharsets.UTF_8);
      writer.finish(target, 0644, null);
    }
    for (String source : files.sourcePaths()) {
      if (instruction instanceof AddInstruction && RemoteSource.of(source).isPresent()) {
        addRemote(source, checksum, unpackRemote, dest, destText.endsWith("/") || Files.isDirectory(dest), writer, views,
            index, line);
        continue;
      }
      Path sourceRoot = root != null ? root : views.context(index, line);
      List<Source> matches = parents ? resolveWithPivot(sourceRoot, source) : resolve(sourceRoot, source);
      if (matches.isEmpty()) {
        throw new StageFailedException(StageFailure.build(index, line, keyword + " failed: source \"" + source
            + "\" not found in " + (root != null ? "--from stage/image" : "the build context")));
      }
      boolean toDir = destIsDir || matches.size() > 1 || Files.isDirectory(dest);
      for (Source match : matches) {
        if (excluded(match.relative(), excludes)) {
          continue;
        }
        Path target;
        if (parents) {
          target = dest.resolve(match.relative());
        } else if (Files.isDirectory(match.path(), LinkOption.NOFOLLOW_LINKS)) {
          target = dest;
        } else {
          target = toDir ? dest.resolve(match.path().getFileName().toString()) : dest;
        }
        if (instruction instanceof AddInstruction && unpack && isArchive(match.path())) {
          writer.unpack(match.path(), dest, views.scratchDir("unpack-"));
          continue;
        }
        writer.copyTree(match.path(), target, match.relative(), excludes);
      }
    }
  }

  /**
   * {@code --parents}: BuildKit keeps a source's path relative to the context, or, when the path has
   * a {@code /./} pivot, only the part after it ({@code x/./y/f} → {@code y/f}). Both sides may
   * hold wildcards.
   */
  private static List<Source> resolveWithPivot(Path root, String pattern) throws IOException {
    int pivot = pattern.indexOf("/./");
    if (pivot < 0) {
      return resolve(root, pattern);
    }
    List<Source> out = new ArrayList<>();
    for (Source base : resolve(root, pattern.substring(0, pivot))) {
      if (Files.isDirectory(base.path(), LinkOption.NOFOLLOW_LINKS)) {
        out.addAll(resolve(base.path(), pattern.substring(pivot + 3)));
      }
    }
    return out;
  }

  /** The sources {@code pattern} names under {@code root}: one path, or every wildcard match. */
  private static List<Source> resolve(Path root, String pattern) throws IOException {
    String rel = pattern;
    while (rel.contains("/./")) {
      rel = rel.replace("/./", "/"); // a clean path, as BuildKit cleans it (without --parents the pivot means nothing)
    }
    while (rel.startsWith("/") || rel.startsWith("./")) {
      rel = rel.startsWith("/") ? rel.substring(1) : rel.substring(2);
    }
    if (rel.isEmpty() || rel.equals(".")) {
      return List.of(new Source(root, ""));
    }
    if (!GoGlob.hasMeta(rel)) {
      Path p = RootfsPaths.resolveLenient(root, rel);
      return Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? List.of(new Source(p, strip(rel))) : List.of();
    }
    String glob = strip(rel);
    int depth = glob.split("/").length;
    List<Source> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root, depth)) {
      for (Path p : walk.sorted().toList()) {
        String r = root.relativize(p).toString();
        if (!r.isEmpty() && r.split("/").length == depth && GoGlob.match(glob, r)) {
          out.add(new Source(p, r));
        }
      }
    }
    return out;
  }

  private static String strip(String rel) {
    String r = rel;
    while (r.endsWith("/")) {
      r = r.substring(0, r.length() - 1);
    }
    return r;
  }

  /** --exclude: a pattern matching the path or one of its parents (relative to the source root). */
  static boolean excluded(String relative, List<String> excludes) {
    if (excludes.isEmpty() || relative.isEmpty()) {
      return false;
    }
    String[] parts = relative.split("/");
    StringBuilder prefix = new StringBuilder();
    for (String part : parts) {
      if (prefix.length() > 0) {
        prefix.append('/');
      }
      prefix.append(part);
      for (String pattern : excludes) {
        String p = strip(pattern.startsWith("/") ? pattern.substring(1) : pattern);
        if (GoGlob.match(p, prefix.toString()) || GoGlob.match(p, part)) {
          return true;
        }
      }
    }
    return false;
  }

  private static Integer parseChmod(String chmod, String keyword, int index, int line) throws StageFailedException {
    if (chmod.isEmpty()) {
      return null;
    }
    try {
      int mode = Integer.parseInt(chmod, 8);
      if (mode < 0 || mode > 07777) {
        throw new NumberFormatException();
      }
      return mode;
    } catch (NumberFormatException e) {
      throw new StageFailedException(StageFailure.build(index, line,
          keyword + " --chmod=" + chmod + ": only octal modes (e.g. 0755) are supported"));
    }
  }

  private static boolean isArchive(Path p) throws IOException {
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    byte[] head = new byte[512];
    int n;
    try (InputStream in = Files.newInputStream(p)) {
      n = in.readNBytes(head, 0, head.length);
    }
    if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
      return true; // gzip
    }
    if (n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') {
      return true;
    }
    if (n >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X' && head[4] == 'Z') {
      return true;
    }
    return n >= 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
  }

  private void addRemote(String url, String checksum, boolean unpack, Path dest, boolean toDir, Writer writer,
      SourceViews views, int index, int line) throws StageFailedException, IOException, InterruptedException {
    if (RemoteSource.of(url).orElseThrow() == RemoteSource.GIT) {
      throw new StageFailedException(StageFailure.build(index, line, "ADD of a git repository is not supported"));
    }
    HttpResponse<byte[]> response;
    try {
      response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new StageFailedException(StageFailure.infrastructure(index, line, "ADD " + url + ": " + e.getMessage()), e);
    }
    if (response.statusCode() / 100 != 2) {
      throw new StageFailedException(StageFailure.build(index, line,
          "ADD " + url + ": the server answered HTTP " + response.statusCode()));
    }
    byte[] body = response.body();
    if (!checksum.isEmpty()) {
      Digest expected;
      try {
        expected = Digest.parse(checksum);
      } catch (RuntimeException e) {
        throw new StageFailedException(StageFailure.build(index, line, "ADD --checksum=" + checksum + ": " + e.getMessage()));
      }
      Digest actual = Digest.of(body);
      if (!actual.equals(expected)) {
        throw new StageFailedException(StageFailure.build(index, line,
            "ADD " + url + ": checksum mismatch: expected " + expected + ", got " + actual));
      }
    }
    if (unpack) {
      Path scratch = views.scratchDir("download-");
      Path downloaded = Files.write(scratch.resolve("archive"), body);
      if (isArchive(downloaded)) {
        writer.unpack(downloaded, dest, views.scratchDir("unpack-"));
        return;
      }
    }
    String path = URI.create(url).getPath();
    String name = path == null || path.isEmpty() || path.endsWith("/") ? "index.html" : Path.of(path).getFileName().toString();
    Path target = toDir ? dest.resolve(name) : dest;
    writer.mkdirs(target.getParent());
    Files.write(target, body);
    writer.finish(target, 0600, FileTime.fromMillis(0));
  }

  /** Writes into the rootfs with the instruction's owner and mode. */
  private static final class Writer {
    private final Path rootfs;
    private final ResolvedUser owner;
    private final Integer mode;
    private final boolean explicitOwner;

    /** @param explicitOwner {@code --chown} was given: it also overrides the owners inside unpacked archives */
    Writer(Path rootfs, ResolvedUser owner, Integer mode, boolean explicitOwner) {
      this.rootfs = rootfs;
      this.owner = owner;
      this.mode = mode;
      this.explicitOwner = explicitOwner;
    }

    /**
     * Unpacks an archive into {@code dest} as BuildKit's ADD does: entries keep the archive's modes
     * and mtimes, and its owners unless {@code --chown} was given (then every entry gets that owner);
     * {@code --chmod} and {@code --exclude} do not reach inside the archive. The archive is unpacked
     * into {@code staging} first so that only its own entries are re-owned, never files already
     * in {@code dest}.
     */
    void unpack(Path archive, Path dest, Path staging) throws IOException {
      mkdirs(dest);
      HostProcess.run(List.of("tar", "-x", "--same-owner", "--numeric-owner", "-f", archive.toString(),
          "-C", staging.toString()), null);
      List<String> entries = new ArrayList<>();
      try (Stream<Path> s = Files.list(staging)) {
        s.sorted().forEach(p -> entries.add(p.toString()));
      }
      if (entries.isEmpty()) {
        return;
      }
      if (explicitOwner) {
        try (Stream<Path> all = Files.walk(staging)) {
          for (Path p : all.filter(p -> !p.equals(staging)).toList()) {
            FileAttrs.chown(p, owner.uid(), owner.gid());
          }
        }
      }
      // cp -a merges into existing directories and keeps owners, modes, mtimes, xattrs and hard links
      List<String> cp = new ArrayList<>(List.of("cp", "-a", "--"));
      cp.addAll(entries);
      cp.add(dest.toString() + "/");
      HostProcess.run(cp, null);
    }

    void mkdirs(Path dir) throws IOException {
      List<Path> created = new ArrayList<>();
      for (Path p = dir; p != null && p.startsWith(rootfs) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
        created.add(0, p);
      }
      for (Path p : created) {
        Files.createDirectory(p);
        FileAttrs.setMode(p, 0755);
        FileAttrs.chown(p, owner.uid(), owner.gid());
      }
    }

    void finish(Path target, int defaultMode, FileTime mtime) throws IOException {
      FileAttrs.chown(target, owner.uid(), owner.gid());
      if (!Files.isSymbolicLink(target)) {
        FileAttrs.setMode(target, mode != null ? mode : defaultMode);
      }
      if (mtime != null) {
        Files.setLastModifiedTime(target, mtime);
      }
    }

    /** Copies a file, symlink or directory's contents to {@code target}, keeping modes and mtimes. */
    void copyTree(Path source, Path target, String relative, List<String> excludes) throws IOException {
      if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
        mkdirs(target);
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException("cannot copy a directory onto the file " + rootfs.relativize(target));
        }
        List<Path> children;
        try (Stream<Path> s = Files.list(source)) {
          children = s.sorted().toList();
        }
        for (Path child : children) {
          String rel = relative.isEmpty() ? child.getFileName().toString() : relative + "/" + child.getFileName();
          if (excluded(rel, excludes)) {
            continue;
          }
          Path childTarget = target.resolve(child.getFileName().toString());
          if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.exists(childTarget, LinkOption.NOFOLLOW_LINKS)) {
              Files.createDirectory(childTarget);
            }
            copyTree(child, childTarget, rel, excludes);
            finish(childTarget, FileAttrs.mode(child), Files.getLastModifiedTime(child, LinkOption.NOFOLLOW_LINKS));
          } else {
            copyTree(child, childTarget, rel, excludes);
          }
        }
        return;
      }
      mkdirs(target.getParent());
      if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(target)) {
        target = target.resolve(source.getFileName().toString());
      }
      Files.deleteIfExists(target);
      if (Files.isSymbolicLink(source)) {
        Files.createSymbolicLink(target, Files.readSymbolicLink(source));
        FileAttrs.chown(target, owner.uid(), owner.gid());
        return;
      }
      Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
      finish(target, FileAttrs.mode(source), Files.getLastModifiedTime(source, LinkOption.NOFOLLOW_LINKS));
    }
  }
}
