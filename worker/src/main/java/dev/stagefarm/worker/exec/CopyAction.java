package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingInputStream;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.ExcludePatterns;
import dev.stagefarm.program.PathPattern;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.RootfsPaths;
import dev.stagefarm.worker.runtime.UserResolver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/**
 * COPY and ADD into the op's merged rootfs, with BuildKit's semantics: a directory source copies
 * its contents; a file goes to {@code dest} itself unless the program makes dest a directory or it
 * is one in the rootfs; context and inline files are owned by 0:0 and {@code --from} files keep
 * their owners unless {@code --chown}; modes and mtimes are kept unless {@code --chmod}; ADD unpacks
 * local tar archives. Every write goes through {@link RootfsFiles}: paths resolve inside the
 * rootfs, never through a symlink out of it, and the last component is replaced, never followed.
 */
final class CopyAction {
  /**
   * The client of {@code ADD URL}, made by the first such ADD, not when a worker makes its CopyAction: a client's
   * selector thread waits in {@code epoll_wait} for as long as the process lives, and a JVM that exits with a thread
   * in native code waits for it to come back, 300 ms (HotSpot's VM_Exit) — every cold one-shot build paid that at its
   * exit for a client that none of its COPYs used (bench/README.md, "Session 13 (issue 12): the cold one-shot of
   * bigfile").
   */
  private static final class RemoteHttp {
    static final HttpClient HTTP = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(30)).build();
  }

  private final long maxDownloadBytes;

  /** @param maxDownloadBytes the most an ADD of a URL may download (worker key {@code add-url-max-size}) */
  CopyAction(long maxDownloadBytes) {
    this.maxDownloadBytes = maxDownloadBytes;
  }

  /**
   * Whether {@code copy} can write into an upper dir over the stage's layers, with no mount: all
   * but an ADD that may unpack an archive (unpacking may replace a directory, which needs a
   * whiteout; it runs on a merged view).
   */
  static boolean writesInPlace(Action.Copy copy) {
    return copy.unpack() == Action.Unpack.NEVER || copy.sources().stream()
        .noneMatch(s -> s instanceof CopySource.FromContext || s instanceof CopySource.Remote);
  }

  void execute(Action.Copy copy, int op, RootfsFiles files, StageSources sources)
      throws IOException, UserError, InterruptedException {
    Optional<ResolvedUser> chown = Optional.empty();
    if (!copy.chown().isEmpty()) {
      chown = Optional.of(UserResolver.resolveOwner(files.imageFiles(), copy.chown()));
    }
    TreeCopier copier = new TreeCopier(files, chown, copy.chmod(), copy.chmodSymbolic());
    // BuildKit's copy resolves the destination with fs.RootPath: symlinks followed inside the rootfs
    Path dest = files.resolve(copy.dest());
    for (CopySource source : copy.sources()) {
      switch (source) {
        case CopySource.Inline inline -> copier.writeFile(intoDir(copy, dest, files) ? dest.resolve(inline.name()) : dest,
            new ByteArrayInputStream(inline.data()), 0644, Optional.empty());
        case CopySource.FromContext context -> copyContext(copy, op, context.selection(), dest, copier, sources, files);
        case CopySource.FromInput input -> copyInput(copy, input, dest, copier, sources, files);
        case CopySource.Remote remote -> addRemote(copy, remote, dest, copier, sources, files);
      }
    }
    copier.finish();
  }

  private static void copyContext(Action.Copy copy, int op, ContextSelection selection, Path dest, TreeCopier copier,
      StageSources sources, RootfsFiles files) throws IOException, UserError {
    // the coordinator applied --exclude when it selected the entries
    ContextFile root = selection.entries().stream().filter(e -> e.path().isEmpty()).findFirst().orElse(null);
    Path match = sources.context(selection, op);
    if (root != null && root.isDirectory()) {
      copier.copyTree(match, selection.placeAt().isEmpty() ? dest : dest.resolve(selection.placeAt()), "",
          ExcludePatterns.NONE, TreeCopier.Source.PLAIN);
      return;
    }
    if (copy.unpack() != Action.Unpack.NEVER && Archives.isTar(match)) {
      copier.unpack(match, dest);
      return;
    }
    copier.copyTree(match, intoDir(copy, dest, files) ? dest.resolve(selection.placeAt()) : dest, "",
        ExcludePatterns.NONE, TreeCopier.Source.PLAIN);
  }

  private static void copyInput(Action.Copy copy, CopySource.FromInput input, Path dest, TreeCopier copier,
      StageSources sources, RootfsFiles files) throws IOException, UserError {
    String id = input.path().input();
    String path = input.path().path();
    List<InputPathExpansion.Match> matches;
    TreeCopier.Source source;
    Optional<InputPathExpansion.Match> direct = copy.parents() || PathPattern.hasMeta(path) ? Optional.empty()
        : directMatch(sources.layers(id), path, "--from " + sources.inputName(id));
    if (direct.isPresent()) {
      matches = List.of(direct.get());
      source = TreeCopier.Source.layers(sources.layers(id));
    } else {
      Path root = sources.input(id);
      matches = InputPathExpansion.expand(root, path, copy.parents(), "--from " + sources.inputName(id));
      source = TreeCopier.Source.read(root);
    }
    boolean toDir = intoDir(copy, dest, files) || matches.size() > 1;
    ExcludePatterns excludes = excludes(copy.exclude());
    for (InputPathExpansion.Match match : matches) {
      // as BuildKit's copy: patterns see paths below each match; with --parents, the path after the pivot
      if (copy.parents() && !match.relative().isEmpty() && excludes.excludes(match.relative())) {
        continue;
      }
      Path target;
      if (copy.parents()) {
        target = match.relative().isEmpty() ? dest : dest.resolve(match.relative());
      } else if (Files.isDirectory(match.host(), LinkOption.NOFOLLOW_LINKS)) {
        target = dest;
      } else {
        target = toDir ? dest.resolve(match.host().getFileName().toString()) : dest;
      }
      copier.copyTree(match.host(), target, copy.parents() ? match.relative() : "", excludes, source);
    }
  }

  /**
   * A plain source path read straight from the input's layers in the host's store, with no mount:
   * its symlinks resolved inside the input's root; a non-directory, or a directory that only one
   * layer holds (what is copied is then that layer's tree). Empty when the directory merges
   * several layers: the caller reads it through a mounted view.
   */
  private static Optional<InputPathExpansion.Match> directMatch(LayerStack stack, String path, String inputName)
      throws IOException, UserError {
    if (stack.layers().isEmpty()) {
      throw new UserError("source \"" + path + "\" not found in " + inputName);
    }
    Path root = stack.layers().getFirst().dir();
    RootfsPaths.Links links = stack.links(root);
    Path resolved;
    try {
      resolved = RootfsPaths.resolveLenient(root, path, links);
    } catch (java.nio.file.FileSystemLoopException e) {
      throw new UserError(path + ": too many levels of symbolic links");
    }
    Optional<LayerStack.Entry> entry = stack.find(root.relativize(resolved).toString());
    if (entry.isEmpty()) {
      throw new UserError("source \"" + path + "\" not found in " + inputName);
    }
    if (entry.get().dirs().size() > 1) {
      return Optional.empty();
    }
    return Optional.of(new InputPathExpansion.Match(entry.get().host(), root.relativize(resolved).toString()));
  }

  /** Whether a file source lands under {@code dest} rather than on it. */
  private static boolean intoDir(Action.Copy copy, Path dest, RootfsFiles files) throws IOException {
    return copy.destIsDir() || files.isDirectory(dest);
  }

  private static ExcludePatterns excludes(List<String> patterns) throws UserError {
    try {
      return ExcludePatterns.of(patterns);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }


  /**
   * ADD of a URL: streamed to a scratch file (never into the heap) with the worker's size limit,
   * the checksum verified on the way; its mtime is the response's Last-Modified, else 0, as
   * BuildKit's http source sets it.
   */
  private void addRemote(Action.Copy copy, CopySource.Remote remote, Path dest, TreeCopier copier,
      StageSources sources, RootfsFiles files) throws IOException, UserError, InterruptedException {
    if (remote.url().startsWith("git@") || remote.url().endsWith(".git")) {
      throw new UserError("ADD of a git repository is not supported");
    }
    Optional<Digest> expected = Optional.empty();
    if (!remote.checksum().isEmpty()) {
      try {
        expected = Optional.of(Digest.parse(remote.checksum()));
      } catch (IllegalArgumentException e) {
        throw new UserError("ADD --checksum=" + remote.checksum() + ": " + e.getMessage());
      }
    }
    HttpResponse<InputStream> response;
    try {
      response = RemoteHttp.HTTP.send(HttpRequest.newBuilder(URI.create(remote.url())).timeout(Duration.ofMinutes(5)).build(),
          HttpResponse.BodyHandlers.ofInputStream());
    } catch (IllegalArgumentException e) {
      throw new UserError("ADD " + remote.url() + ": not a valid URL: " + e.getMessage());
    }
    Path downloaded = sources.scratchDir("download-").resolve("body");
    try (InputStream body = response.body()) {
      if (response.statusCode() / 100 != 2) {
        throw new UserError("ADD " + remote.url() + ": the server answered HTTP " + response.statusCode());
      }
      long declared = response.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (declared > maxDownloadBytes) {
        throw tooLarge(remote);
      }
      DigestingInputStream digesting = new DigestingInputStream(body);
      try (OutputStream out = Files.newOutputStream(downloaded, StandardOpenOption.CREATE_NEW)) {
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = digesting.read(buffer)) > 0) {
          if (digesting.count() > maxDownloadBytes) {
            throw tooLarge(remote);
          }
          out.write(buffer, 0, n);
        }
      }
      if (expected.isPresent() && !digesting.digest().equals(expected.get())) {
        throw new UserError("ADD " + remote.url() + ": checksum mismatch: expected " + expected.get() + ", got "
            + digesting.digest());
      }
    }
    if (copy.unpack() == Action.Unpack.ALL && Archives.isTar(downloaded)) { // BuildKit 1.17+: only --unpack=true
      copier.unpack(downloaded, dest);
      return;
    }
    Path target = intoDir(copy, dest, files) ? dest.resolve(remote.fileName()) : dest;
    try (InputStream in = Files.newInputStream(downloaded)) {
      copier.writeFile(target, in, 0600, Optional.of(lastModified(response)));
    }
  }

  private UserError tooLarge(CopySource.Remote remote) {
    return new UserError("ADD " + remote.url() + ": the download is larger than this worker's limit add-url-max-size ("
        + maxDownloadBytes + " bytes)");
  }

  /** BuildKit source/http: the file's mtime is Last-Modified when the server sends a valid one, else the epoch. */
  private static FileTime lastModified(HttpResponse<?> response) {
    Optional<String> header = response.headers().firstValue("Last-Modified");
    if (header.isPresent()) {
      try {
        return FileTime.from(ZonedDateTime.parse(header.get(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
      } catch (DateTimeParseException ignored) {
        // as Go's http.ParseTime failing: the epoch
      }
    }
    return FileTime.fromMillis(0);
  }
}
