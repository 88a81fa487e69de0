package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A git build context on this machine, as buildx writes one: {@code /path/repo.git[#REF[:SUBDIR]]} or
 * {@code file:///path/repo[#REF[:SUBDIR]]}. The repository is untrusted: it is fetched at depth 1
 * through git's file transport (no hard links into it, no shared object store) into a private temporary
 * directory, with no hooks, no templates, no submodules and no system or user git configuration, and
 * the checkout's {@code .git} is removed before the directory is sent like any other context.
 * Remote repositories ({@code git@…}, {@code https://…}, {@code ssh://}, {@code git://}) are refused:
 * the client fetches nothing from the network.
 *
 * @param repository the repository's absolute path
 * @param ref what to check out: a branch, tag or commit; "HEAD" when the context names none
 * @param subdir the context inside the checkout; empty for its root
 */
public record GitContext(Path repository, String ref, String subdir) {
  private static final Pattern REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,254}");
  private static final long GIT_TIMEOUT_SECONDS = 600;
  private static final int MAX_GIT_OUTPUT = 64 << 10;
  /** The largest checkout: the blobs of the tree together (as a tarball context's unpacked size). */
  public static final long MAX_BYTES = TarContext.MAX_BYTES;
  /** The most files, symlinks and directories in the checkout (as a tarball context's entries). */
  public static final int MAX_ENTRIES = TarContext.MAX_ENTRIES;

  /** Whether CONTEXT names a git repository or URL rather than a directory or an archive. */
  public static boolean isGit(String context) {
    return context.contains("://") || context.startsWith("git@") || pathPart(context).endsWith(".git");
  }

  /**
   * The local repository CONTEXT names.
   *
   * @throws UserError (exit 2) for a remote URL or a malformed ref or subdirectory, naming why
   */
  public static GitContext parse(String context) {
    return parse(context, Path.of(""));
  }

  /** As {@link #parse(String)}, a relative repository path in {@code base}. */
  public static GitContext parse(String context, Path base) {
    if (context.startsWith("git@") || (context.contains("://") && !context.startsWith("file://"))) {
      throw ExitCodes.usage("the build context " + context + " is a remote git repository or URL: stagefarm fetches"
          + " no context from the network; clone it and give the directory, or a local repository as"
          + " file:///PATH[#REF[:SUBDIR]] or PATH.git[#REF[:SUBDIR]]");
    }
    String path = pathPart(context);
    if (path.startsWith("file://")) {
      path = path.substring("file://".length());
      if (!path.startsWith("/")) {
        throw ExitCodes.usage("the build context " + context + ": a file:// URL needs an absolute path (file:///PATH)");
      }
    }
    String fragment = context.length() > pathPart(context).length() ? context.substring(pathPart(context).length() + 1)
        : "";
    int colon = fragment.indexOf(':');
    String ref = colon >= 0 ? fragment.substring(0, colon) : fragment;
    String subdir = colon >= 0 ? fragment.substring(colon + 1) : "";
    if (ref.isEmpty()) {
      ref = "HEAD";
    }
    if (!REF.matcher(ref).matches() || ref.contains("..")) {
      throw ExitCodes.usage("the build context " + context + ": \"" + ref + "\" is not a git branch, tag or commit");
    }
    subdir = subdir.replaceAll("^/+|/+$", "");
    for (String part : subdir.split("/")) {
      if (part.equals("..") || part.equals(".")) {
        throw ExitCodes.usage("the build context " + context + ": the subdirectory \"" + subdir + "\" may not contain"
            + " . or ..");
      }
    }
    Path repository = base.resolve(path).toAbsolutePath().normalize();
    if (!Files.isDirectory(repository)) {
      throw ExitCodes.usage("the build context " + context + ": " + repository + " is not a directory");
    }
    return new GitContext(repository, ref, subdir);
  }

  private static String pathPart(String context) {
    int hash = context.indexOf('#');
    return hash >= 0 ? context.substring(0, hash) : context;
  }

  /**
   * Checks the ref out into {@code into} (a new private directory) and returns the context directory in it.
   *
   * @throws UserError when git fails (its message, bounded), the checkout would be over {@link #MAX_ENTRIES}
   *     or {@link #MAX_BYTES}, or the subdirectory is not a directory of the checkout
   */
  public Path checkout(Path into) throws IOException {
    return checkout(into, MAX_ENTRIES, MAX_BYTES);
  }

  /** As {@link #checkout(Path)}, with other limits. */
  Path checkout(Path into, int maxEntries, long maxBytes) throws IOException {
    String url = "file://" + repository;
    git(into, "init", "--quiet", "--template=");
    // the fetched pack is no larger than the repository's own objects on this machine; its checkout
    // can be (a compressed bomb), so the tree is measured before anything is written out
    git(into, "fetch", "--quiet", "--depth", "1", "--no-tags", "--no-recurse-submodules", "--", url, ref);
    checkSize(into, maxEntries, maxBytes);
    git(into, "checkout", "--quiet", "--no-recurse-submodules", "FETCH_HEAD");
    TarContext.deleteTree(into.resolve(".git")); // BuildKit leaves the git directory out of the context
    if (subdir.isEmpty()) {
      return into;
    }
    Path dir = into.resolve(subdir).normalize();
    boolean inside;
    try {
      inside = dir.toRealPath().startsWith(into.toRealPath()); // a symlinked subdir pointing out is refused
    } catch (IOException e) {
      inside = false;
    }
    if (!inside || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserError("the git context " + repository + "#" + ref + ":" + subdir + " has no directory " + subdir);
    }
    return dir;
  }

  /**
   * Refuses a fetched tree with more than {@code maxEntries} entries or {@code maxBytes} of blobs,
   * reading {@code git ls-tree} as it streams (stopping it at the limit).
   */
  private void checkSize(Path dir, int maxEntries, long maxBytes) throws IOException {
    String[] args = {"ls-tree", "-r", "-t", "-l", "-z", "--full-tree", "FETCH_HEAD"};
    ProcessBuilder builder = gitCommand(dir, args).redirectError(ProcessBuilder.Redirect.DISCARD);
    Process process = start(builder);
    process.getOutputStream().close();
    long entries = 0;
    long bytes = 0;
    String over = null;
    // each entry: "<mode> <type> <object> <size>\t<path>\0"; the size is "-" for a directory
    try (InputStream in = new BufferedInputStream(process.getInputStream())) {
      StringBuilder header = new StringBuilder();
      boolean inPath = false;
      for (int b; over == null && (b = in.read()) >= 0; ) {
        if (b == 0) {
          entries++;
          bytes += blobSize(header);
          header.setLength(0);
          inPath = false;
          if (entries > maxEntries) {
            over = "more than " + maxEntries + " files and directories";
          } else if (bytes > maxBytes) {
            over = "more than " + maxBytes + " bytes";
          }
        } else if (b == '\t') {
          inPath = true;
        } else if (!inPath && header.length() < 256) {
          header.append((char) b);
        }
      }
    }
    if (over != null) {
      process.destroyForcibly();
      throw new UserError("the git context " + repository + "#" + ref + " refused: its checkout has " + over
          + ", the limit");
    }
    finish(process, args, new byte[0]);
  }

  private static long blobSize(CharSequence header) {
    String[] fields = header.toString().strip().split(" +");
    String size = fields[fields.length - 1];
    return size.equals("-") ? 0 : Long.parseLong(size);
  }

  /** Runs git in {@code dir} with no configuration but ours: no hooks, no fsmonitor, only the file transport. */
  private void git(Path dir, String... args) throws IOException {
    Process process = start(gitCommand(dir, args).redirectErrorStream(true));
    process.getOutputStream().close();
    byte[] output = process.getInputStream().readNBytes(MAX_GIT_OUTPUT);
    process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    finish(process, args, output);
  }

  private static ProcessBuilder gitCommand(Path dir, String... args) {
    List<String> command = new ArrayList<>(List.of("git", "-c", "protocol.allow=never", "-c", "protocol.file.allow=always",
        "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "submodule.recurse=false",
        "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(name -> name.startsWith("GIT_"));
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_CONFIG_GLOBAL", "/dev/null");
    env.put("GIT_TERMINAL_PROMPT", "0");
    env.put("GIT_PROTOCOL_FROM_USER", "0");
    return builder;
  }

  private static Process start(ProcessBuilder builder) {
    try {
      return builder.start();
    } catch (IOException e) {
      throw new UserError("a git build context needs the git program: " + e.getMessage());
    }
  }

  /** Waits for git (bounded) and turns a failure into the user's error, with git's output. */
  private void finish(Process process, String[] args, byte[] output) {
    try {
      if (!process.waitFor(GIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new UserError("git " + args[0] + " of " + repository + " did not finish in " + GIT_TIMEOUT_SECONDS + "s");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    }
    if (process.exitValue() != 0) {
      throw new UserError("the git context " + repository + "#" + ref + ": git " + args[0] + " failed: "
          + new String(output, StandardCharsets.UTF_8).strip());
    }
  }
}
