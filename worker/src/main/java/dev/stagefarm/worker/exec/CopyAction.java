package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.ExcludePatterns;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.RootfsPaths;
import dev.stagefarm.worker.runtime.UserResolver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * COPY and ADD into the op's merged rootfs, with BuildKit's semantics: a directory source copies
 * its contents; a file goes to {@code dest} itself unless the program makes dest a directory or it
 * is one in the rootfs; context and inline files are owned by 0:0 and {@code --from} files keep
 * their owners unless {@code --chown}; modes and mtimes are kept unless {@code --chmod}; ADD unpacks
 * local tar archives.
 */
final class CopyAction {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(30)).build();

  void execute(Action.Copy copy, int op, Path rootfs, StageSources sources)
      throws IOException, UserError, InterruptedException {
    Optional<ResolvedUser> chown = Optional.empty();
    if (!copy.chown().isEmpty()) {
      chown = Optional.of(UserResolver.resolveOwner(rootfs, copy.chown()));
    }
    TreeCopier copier = new TreeCopier(rootfs, chown, copy.chmod(), copy.chmodSymbolic());
    Path dest = RootfsPaths.resolveLenient(rootfs, copy.dest());
    for (CopySource source : copy.sources()) {
      switch (source) {
        case CopySource.Inline inline -> copier.writeFile(
            intoDir(copy, dest) ? dest.resolve(inline.name()) : dest, inline.data(), 0644, Optional.empty());
        case CopySource.FromContext context -> copyContext(copy, op, context.selection(), dest, copier, sources);
        case CopySource.FromInput input -> copyInput(copy, input, dest, copier, sources);
        case CopySource.Remote remote -> addRemote(copy, remote, dest, copier, sources);
      }
    }
  }

  private static void copyContext(Action.Copy copy, int op, ContextSelection selection, Path dest, TreeCopier copier,
      StageSources sources) throws IOException, UserError {
    // the coordinator applied --exclude when it selected the entries
    ContextFile root = selection.entries().stream().filter(e -> e.path().isEmpty()).findFirst().orElse(null);
    Path match = sources.context(selection, op);
    if (root != null && root.isDirectory()) {
      copier.copyTree(match, selection.placeAt().isEmpty() ? dest : dest.resolve(selection.placeAt()), "",
          ExcludePatterns.NONE);
      return;
    }
    if (copy.unpack() != Action.Unpack.NEVER && Archives.isTar(match)) {
      copier.unpack(match, dest, sources.scratchDir("unpack-"));
      return;
    }
    copier.copyTree(match, intoDir(copy, dest) ? dest.resolve(selection.placeAt()) : dest, "", ExcludePatterns.NONE);
  }

  private static void copyInput(Action.Copy copy, CopySource.FromInput input, Path dest, TreeCopier copier,
      StageSources sources) throws IOException, UserError {
    String id = input.path().input();
    Path root = sources.input(id);
    List<InputPathExpansion.Match> matches = InputPathExpansion.expand(root, input.path().path(), copy.parents(),
        "--from " + sources.inputName(id));
    boolean toDir = intoDir(copy, dest) || matches.size() > 1;
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
      copier.copyTree(match.host(), target, copy.parents() ? match.relative() : "", excludes);
    }
  }

  /** Whether a file source lands under {@code dest} rather than on it. */
  private static boolean intoDir(Action.Copy copy, Path dest) {
    return copy.destIsDir() || Files.isDirectory(dest);
  }

  private static ExcludePatterns excludes(List<String> patterns) throws UserError {
    try {
      return ExcludePatterns.of(patterns);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }


  private static void addRemote(Action.Copy copy, CopySource.Remote remote, Path dest, TreeCopier copier,
      StageSources sources) throws IOException, UserError, InterruptedException {
    if (remote.url().startsWith("git@") || remote.url().endsWith(".git")) {
      throw new UserError("ADD of a git repository is not supported");
    }
    HttpResponse<byte[]> response;
    try {
      response = HTTP.send(HttpRequest.newBuilder(URI.create(remote.url())).timeout(Duration.ofMinutes(5)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (IllegalArgumentException e) {
      throw new UserError("ADD " + remote.url() + ": not a valid URL: " + e.getMessage());
    }
    if (response.statusCode() / 100 != 2) {
      throw new UserError("ADD " + remote.url() + ": the server answered HTTP " + response.statusCode());
    }
    byte[] body = response.body();
    if (!remote.checksum().isEmpty()) {
      Digest expected;
      try {
        expected = Digest.parse(remote.checksum());
      } catch (IllegalArgumentException e) {
        throw new UserError("ADD --checksum=" + remote.checksum() + ": " + e.getMessage());
      }
      Digest actual = Digest.of(body);
      if (!actual.equals(expected)) {
        throw new UserError("ADD " + remote.url() + ": checksum mismatch: expected " + expected + ", got " + actual);
      }
    }
    if (copy.unpack() == Action.Unpack.ALL) { // BuildKit 1.17+: only --unpack=true unpacks a download
      Path downloaded = Files.write(sources.scratchDir("download-").resolve("archive"), body);
      if (Archives.isTar(downloaded)) {
        copier.unpack(downloaded, dest, sources.scratchDir("unpack-"));
        return;
      }
    }
    Path target = intoDir(copy, dest) ? dest.resolve(remote.fileName()) : dest;
    copier.writeFile(target, body, 0600, Optional.of(FileTime.fromMillis(0)));
  }
}
